"""Fusion layers: a dict of ``(batch, dim_i)`` modality vectors -> one ``(batch, dim)`` vector.

All fusion layers share one contract (``Fusion``): ``fusion(vectors,
presence=None)`` takes a dict keyed by modality name (or a list, whose items
are named ``m0``, ``m1``, ...), remembers at build time which modalities and
widths it was built for, and accepts any non-empty subset of them afterwards.
A modality is **missing** when it is left out of the dict (for the whole
batch) or when ``presence`` marks it absent for an example (a ``(batch,)``
array of 1 = present, 0 = absent, per modality). Missing is never read off
the values: a genuine all-zero encoding is present. What each layer does
with a missing modality is its documented rule. An example with no modality
present fuses to zeros (``LateFusion``: to the uniform distribution).

The chapter "Modalities and shared spaces" introduces fusion; the chapter
"The knowledge-fusion network" compares the layers.
"""

import keras
import numpy as np
from keras import layers, ops

from crossmodal.blocks import add_coordinates
from crossmodal.serialization import Composite, serialize
from crossmodal.validation import check_choice, check_int, check_modalities, check_rank

VECTORS = "vectors (batch, dim)"


def _as_dict(inputs):
    if isinstance(inputs, (list, tuple)):
        return {f"m{i}": x for i, x in enumerate(inputs)}
    return inputs


def _check_many(owner, inputs):
    """Raise ``TypeError`` for one tensor (or one shape) where a dict of modalities belongs."""
    if isinstance(inputs, dict):
        return
    one_shape = isinstance(inputs, (list, tuple)) and all(
        d is None or isinstance(d, int) for d in inputs
    )
    if one_shape or hasattr(inputs, "shape"):
        shape = tuple(getattr(inputs, "shape", inputs))
        raise TypeError(
            f"{owner}: expected a dict of modality name to (batch, dim) vectors (or a "
            f"list of them); got one tensor of shape {shape}"
        )


def _with_one(z):
    """``[z; 1]``: a vector with a constant 1 appended (``(batch, d + 1)``)."""
    return ops.concatenate([z, ops.ones_like(z[:, :1])], axis=-1)


class Fusion(layers.Layer):
    """Base class: validates and orders the modalities, applies the presence mask, fuses.

    Subclasses implement ``fuse(vectors, mask)``: ``vectors`` is a list in the
    order of ``self.modalities`` in which every missing entry (a modality
    left out, or absent for an example) is zeros, and ``mask`` is
    ``(batch, N)``, 1 where the modality is present. They also implement
    ``compute_output_shape``. Layers that can return more (gates, attention
    weights) override ``call`` and start with ``present``.
    """

    def build(self, input_shape):
        _check_many(self.name, input_shape)
        shapes = _as_dict(input_shape)
        if not isinstance(shapes, dict) or not shapes:
            raise ValueError(
                f"{self.name}: expected a non-empty dict of modality vectors; got {input_shape}"
            )
        for name, shape in shapes.items():
            check_rank(shape, 2, what=name, expected=VECTORS)
        # dicts are fused in sorted order, so key order never changes the result
        names = list(shapes) if isinstance(input_shape, (list, tuple)) else sorted(shapes)
        self.modalities = names
        self.input_dims = {name: int(shapes[name][-1]) for name in names}

    def call(self, inputs, presence=None):
        return self.fuse(*self.present(inputs, presence))

    def present(self, inputs, presence=None):
        """Validate; return every modality in order (zeros where missing) and the mask.

        The mask is ``(batch, M)`` for ``M`` modalities.
        """
        _check_many(self.name, inputs)
        inputs = check_modalities(_as_dict(inputs), self.modalities, owner=self.name)
        for name, x in inputs.items():
            check_rank(x, 2, what=name, expected=VECTORS)
            if x.shape[-1] != self.input_dims[name]:
                raise ValueError(
                    f"{self.name}: modality {name!r} was built with width "
                    f"{self.input_dims[name]}; got shape {tuple(x.shape)}"
                )
        if presence is not None:
            presence = check_modalities(
                _as_dict(presence), self.modalities, owner=f"{self.name} (presence)"
            )
            for name, p in presence.items():
                check_rank(p, 1, what=f"presence of {name}", expected="(batch,) 1 or 0")
        some = next(iter(inputs.values()))
        batch = ops.shape(some)[0]
        dtype = self.compute_dtype
        vectors, columns = [], []
        for name in self.modalities:
            if name not in inputs:
                vectors.append(ops.zeros((batch, self.input_dims[name]), dtype=dtype))
                columns.append(ops.zeros((batch,), dtype=dtype))
                continue
            given = ops.ones((batch,), dtype=dtype)
            if presence is not None and name in presence:
                given = ops.cast(presence[name], dtype)
            vectors.append(ops.cast(inputs[name], dtype) * given[:, None])
            columns.append(given)
        return vectors, ops.stack(columns, axis=1)

    def fuse(self, vectors, mask):
        raise NotImplementedError


@keras.saving.register_keras_serializable(package="crossmodal")
class ConcatFusion(Fusion):
    """Early fusion by concatenation: width ``sum(dim_i)``.

    Missing modality: its slot holds zeros, so the output width never changes
    and the next layer reads those zeros as it reads any input.
    """

    def fuse(self, vectors, mask):
        return ops.concatenate(vectors, axis=-1)

    def compute_output_shape(self, input_shape):
        batch = next(iter(_as_dict(input_shape).values()))[0]
        return (batch, sum(self.input_dims.values()))


@keras.saving.register_keras_serializable(package="crossmodal")
class MeanFusion(Fusion):
    """Fusion by averaging: all modalities must share one width ``dim``.

    Missing modality: the mean is taken over the modalities present.
    """

    def build(self, input_shape):
        super().build(input_shape)
        if len(set(self.input_dims.values())) > 1:
            raise ValueError(f"{self.name}: mean fusion needs equal widths; got {self.input_dims}")

    def fuse(self, vectors, mask):
        total = ops.sum(ops.stack(vectors, axis=1), axis=1)
        return total / ops.maximum(ops.sum(mask, axis=1, keepdims=True), 1.0)

    def compute_output_shape(self, input_shape):
        batch = next(iter(_as_dict(input_shape).values()))[0]
        return (batch, next(iter(self.input_dims.values())))


class _WidthFusion(Fusion):
    """A fusion layer with an output width ``dim`` of its own."""

    def __init__(self, dim=32, **kwargs):
        super().__init__(**kwargs)
        self.dim = check_int(dim, "dim")

    def compute_output_shape(self, input_shape):
        batch = next(iter(_as_dict(input_shape).values()))[0]
        return (batch, self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim}


@keras.saving.register_keras_serializable(package="crossmodal")
class GatedFusion(_WidthFusion):
    """Gated multimodal unit (Arevalo et al., 2017) for any number of modalities.

    Each modality is squashed into a common width, ``h_i = tanh(W_i z_i + b_i)``,
    and gates computed from *all* inputs, ``g = W_g [z_1; ...; z_N] + b_g``
    (one gate per modality and output unit, ``(batch, N, dim)``), weigh them:
    ``h = sum_i g_i * h_i``. With ``gate="softmax"`` (default) the gates of a
    unit are a softmax over the modalities and sum to 1 (for two modalities
    this is the paper's ``z`` and ``1 - z``); with ``gate="sigmoid"`` each
    gate is an independent sigmoid in ``[0, 1]``. The gate layer maps
    ``sum(dim_i)`` inputs to ``N * dim`` gates, so its size grows with the
    square of the number of modalities.

    Missing modality: its slot in the gate input is zero and its gate is
    removed (the softmax runs over the modalities present; a sigmoid gate is
    set to 0).

    Call with ``return_gates=True`` to get ``(fused, gates)``, gates
    ``(batch, N, dim)`` ordered as ``self.modalities``. Taught in the chapter
    "The knowledge-fusion network".

    Args:
        dim: output width.
        gate: ``"softmax"`` or ``"sigmoid"``.
    """

    def __init__(self, dim=32, gate="softmax", **kwargs):
        super().__init__(dim, **kwargs)
        self.gate = check_choice(gate, "gate", ("softmax", "sigmoid"))

    def build(self, input_shape):
        super().build(input_shape)
        batch = next(iter(_as_dict(input_shape).values()))[0]
        self.transforms = []
        for name in self.modalities:
            dense = layers.Dense(self.dim, activation="tanh", name=f"transform_{name}")
            dense.build((batch, self.input_dims[name]))
            self.transforms.append(dense)
        self.gates = layers.Dense(len(self.modalities) * self.dim, name="gates")
        self.gates.build((batch, sum(self.input_dims.values())))

    def call(self, inputs, presence=None, return_gates=False):
        vectors, mask = self.present(inputs, presence)
        h = ops.stack([t(z) for t, z in zip(self.transforms, vectors)], axis=1)  # (b, N, dim)
        logits = ops.reshape(
            self.gates(ops.concatenate(vectors, axis=-1)), (-1, len(self.modalities), self.dim)
        )
        keep = ops.cast(mask, "float32")[:, :, None]
        if self.gate == "softmax":  # in float32: a float16 mask of -1e9 would be -inf
            masked = ops.where(keep > 0, ops.cast(logits, "float32"), -1e9)
            gates = ops.softmax(masked, axis=1) * keep
        else:
            gates = ops.sigmoid(ops.cast(logits, "float32")) * keep
        gates = ops.cast(gates, h.dtype)
        fused = ops.sum(gates * h, axis=1)
        return (fused, gates) if return_gates else fused

    def get_config(self):
        return {**super().get_config(), "gate": self.gate}


@keras.saving.register_keras_serializable(package="crossmodal")
class TensorFusion(Fusion):
    """Tensor fusion (Zadeh et al., 2017): the outer product of ``[z_i; 1]``.

    The flattened product ``[z_1; 1] x [z_2; 1] x ... x [z_N; 1]`` holds every
    unimodal feature (thanks to the 1s), every pair of features from two
    modalities, every triple, and so on; its width is ``prod(dim_i + 1)``,
    which grows exponentially with the number of modalities. With ``dim`` set,
    a dense layer maps it to ``dim`` (the linear map that low-rank fusion
    factorises); otherwise the layer has no weights.

    Missing modality: its ``z_i`` is replaced by zeros, so only its constant 1
    survives and the product reduces to the tensor of the others.
    Taught in the chapter "The knowledge-fusion network".

    Args:
        dim: optional output width of a dense projection.
    """

    def __init__(self, dim=None, **kwargs):
        super().__init__(**kwargs)
        self.dim = None if dim is None else check_int(dim, "dim")

    def build(self, input_shape):
        super().build(input_shape)
        if self.dim is not None:
            batch = next(iter(_as_dict(input_shape).values()))[0]
            self.project = layers.Dense(self.dim, name="project")
            self.project.build((batch, self.tensor_dim()))

    def tensor_dim(self):
        """Width of the flattened tensor, ``prod(dim_i + 1)``."""
        return int(np.prod([d + 1 for d in self.input_dims.values()]))

    def fuse(self, vectors, mask):
        parts = [_with_one(z) for z in vectors]
        tensor = parts[0]
        for z in parts[1:]:
            tensor = ops.reshape(
                tensor[:, :, None] * z[:, None, :], (-1, tensor.shape[-1] * z.shape[-1])
            )
        return tensor if self.dim is None else self.project(tensor)

    def compute_output_shape(self, input_shape):
        batch = next(iter(_as_dict(input_shape).values()))[0]
        return (batch, self.tensor_dim() if self.dim is None else self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim}


@keras.saving.register_keras_serializable(package="crossmodal")
class LowRankFusion(_WidthFusion):
    """Low-rank multimodal fusion (Liu et al., 2018).

    The linear map of tensor fusion, ``h = W . ([z_1; 1] x ... x [z_N; 1])``,
    with its weight tensor written as a sum of ``rank`` products of
    modality-specific factors ``W_i^(r)`` (``(dim_i + 1, dim)`` each):
    ``h = sum_r lambda_r * prod_i ([z_i; 1] W_i^(r)) + b``. The product is
    element-wise, so the tensor is never formed: weights grow as
    ``rank * sum(dim_i + 1) * dim`` instead of ``prod(dim_i + 1) * dim``.

    Missing modality: like ``TensorFusion``, its ``z_i`` is replaced by
    zeros, so its factor contributes only its last row (the bias of the 1).
    Taught in the chapter "The knowledge-fusion network".

    Args:
        dim: output width.
        rank: number of rank-one terms ``r``.
    """

    def __init__(self, dim=32, rank=4, **kwargs):
        super().__init__(dim, **kwargs)
        self.rank = check_int(rank, "rank")

    def build(self, input_shape):
        super().build(input_shape)
        self.factors = [
            self.add_weight(
                shape=(self.rank, self.input_dims[name] + 1, self.dim),
                initializer="glorot_normal",
                name=f"factor_{name}",
            )
            for name in self.modalities
        ]
        self.rank_weights = self.add_weight(
            shape=(self.rank,), initializer="glorot_normal", name="rank_weights"
        )
        self.bias = self.add_weight(shape=(self.dim,), initializer="zeros", name="bias")

    def fuse(self, vectors, mask):
        product = None
        for factor, z in zip(self.factors, vectors):
            term = ops.einsum("bd,rdo->bro", _with_one(z), ops.cast(factor, z.dtype))
            product = term if product is None else product * term
        weights = ops.cast(self.rank_weights, product.dtype)
        return ops.einsum("bro,r->bo", product, weights) + ops.cast(self.bias, product.dtype)

    def get_config(self):
        return {**super().get_config(), "rank": self.rank}


@keras.saving.register_keras_serializable(package="crossmodal")
class AttentionFusion(_WidthFusion):
    """Self-attention over one token per modality (Vaswani et al., 2017).

    Each modality is projected to a common width ``dim`` and a learned
    modality embedding is added, giving ``N`` tokens; one multi-head
    self-attention block (``num_heads`` heads of width ``dim / num_heads``,
    an output projection, a residual connection and layer normalisation)
    lets every token read the others, and the output is the mean of the
    tokens.

    Missing modality: its token is masked out as a key (the softmax runs over
    the modalities present) and left out of the mean.

    Call with ``return_attention=True`` to get ``(fused, weights)``, weights
    ``(batch, num_heads, N, N)`` (query, key; ordered as ``self.modalities``),
    each row summing to 1. Taught in the chapter "The knowledge-fusion network".

    Args:
        dim: common token width and output width.
        num_heads: attention heads (must divide ``dim``).
    """

    def __init__(self, dim=32, num_heads=1, **kwargs):
        super().__init__(dim, **kwargs)
        self.num_heads = check_int(num_heads, "num_heads")
        if self.dim % self.num_heads:
            raise ValueError(f"num_heads must divide dim; got dim={dim}, num_heads={num_heads}")

    def build(self, input_shape):
        super().build(input_shape)
        batch = next(iter(_as_dict(input_shape).values()))[0]
        n = len(self.modalities)
        self.projections = []
        for name in self.modalities:
            dense = layers.Dense(self.dim, name=f"project_{name}")
            dense.build((batch, self.input_dims[name]))
            self.projections.append(dense)
        self.modality_embedding = self.add_weight(
            shape=(n, self.dim), initializer="random_normal", name="modality_embedding"
        )
        self.attention = layers.MultiHeadAttention(
            self.num_heads, self.dim // self.num_heads, name="attention"
        )
        self.attention.build((batch, n, self.dim), (batch, n, self.dim))
        self.norm = layers.LayerNormalization(name="norm")
        self.norm.build((batch, n, self.dim))

    def call(self, inputs, presence=None, return_attention=False):
        vectors, mask = self.present(inputs, presence)
        tokens = ops.stack([p(z) for p, z in zip(self.projections, vectors)], axis=1)
        tokens = tokens + ops.cast(self.modality_embedding, tokens.dtype)[None]
        n = len(self.modalities)
        keys = ops.broadcast_to(ops.cast(mask, "bool")[:, None, :], (ops.shape(tokens)[0], n, n))
        attended, weights = self.attention(
            tokens, tokens, attention_mask=keys, return_attention_scores=True
        )
        tokens = self.norm(tokens + attended)
        present = ops.cast(mask, tokens.dtype)[:, :, None]
        fused = ops.sum(tokens * present, axis=1) / ops.maximum(ops.sum(present, axis=1), 1.0)
        return (fused, weights) if return_attention else fused

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads}


@keras.saving.register_keras_serializable(package="crossmodal")
class LateFusion(Composite, Fusion):
    """Late fusion: one head per modality, their predicted distributions combined.

    Each modality gets its own copy of ``head`` (same configuration, its own
    weights), which must end in a softmax: ``p_i = head_i(z_i)``, ``(batch,
    classes)``. The rule combines the distributions of the modalities present:

    * ``"mean"``: the average, ``(1 / |S|) sum_{i in S} p_i``, a vote;
    * ``"product"``: the normalised product, ``prod_{i in S} p_i / Z``, a
      product of experts: the rule for independent witnesses with a uniform
      prior (``p(y | x_1..x_N)`` is proportional to ``prod_i p(y | x_i) /
      p(y)^(N-1)``), under which one witness's colour and another's shape
      combine within an example.

    Missing modality: left out of the mean or the product; with none present
    the prediction is uniform. The output is the prediction itself, so a
    ``FusionNetwork`` with late fusion has no head of its own. Taught in the
    chapter "The knowledge-fusion network".

    Args:
        head: a layer mapping ``(batch, dim_i)`` to ``(batch, classes)``
            probabilities (e.g. ``VectorDecoder(classes, output_activation="softmax")``).
        rule: ``"mean"`` or ``"product"``.
    """

    NESTED = ("head",)

    def __init__(self, head, rule="mean", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(head, layers.Layer):
            raise TypeError(f"head must be a Keras layer; got {type(head).__name__}")
        self.head = head
        self.rule = check_choice(rule, "rule", ("mean", "product"))

    def build(self, input_shape):
        super().build(input_shape)
        config = serialize(self.head)
        self.heads = []
        for name in self.modalities:
            copy = keras.saving.deserialize_keras_object(
                {**config, "config": {**config["config"], "name": f"{self.head.name}_{name}"}}
            )
            copy.build((None, self.input_dims[name]))
            self.heads.append(copy)

    def fuse(self, vectors, mask):
        mask = ops.cast(mask, "float32")
        probabilities = ops.stack(
            [ops.cast(head(z), "float32") for head, z in zip(self.heads, vectors)], axis=1
        )
        classes = probabilities.shape[-1]
        if self.rule == "mean":
            total = ops.sum(probabilities * mask[:, :, None], axis=1)
            count = ops.sum(mask, axis=1, keepdims=True)
            return ops.where(count > 0, total / ops.maximum(count, 1.0), 1.0 / classes)
        logits = ops.sum(ops.log(ops.maximum(probabilities, 1e-7)) * mask[:, :, None], axis=1)
        return ops.softmax(logits, axis=-1)

    def compute_output_spec(self, inputs, presence=None):
        """The prediction is float32 (the heads' outputs), under a mixed-precision policy too."""
        shapes = {k: tuple(v.shape) for k, v in _as_dict(inputs).items()}
        return keras.KerasTensor(self.compute_output_shape(shapes), dtype="float32")

    def compute_output_shape(self, input_shape):
        batch = next(iter(_as_dict(input_shape).values()))[0]
        name = self.modalities[0]
        return (batch, self.heads[0].compute_output_shape((batch, self.input_dims[name]))[-1])

    def get_config(self):
        return {**super().get_config(), "head": serialize(self.head), "rule": self.rule}


FUSIONS = {
    "concat": ConcatFusion,
    "mean": MeanFusion,
    "gated": GatedFusion,
    "tensor": TensorFusion,
    "low_rank": LowRankFusion,
    "attention": AttentionFusion,
}
"""The vector fusion layers by name (``LateFusion`` needs a head, so it is built directly)."""


def get(fusion, **kwargs):
    """A fusion layer from a name in ``FUSIONS`` (with its arguments) or a ``Fusion`` instance.

    ``get("gated", dim=32)`` is ``GatedFusion(dim=32)``; a layer is returned as it is.
    """
    if isinstance(fusion, layers.Layer):
        if kwargs:
            raise ValueError(f"arguments {sorted(kwargs)} apply to a fusion name, not a layer")
        return fusion
    if fusion not in FUSIONS:
        raise ValueError(f"unknown fusion {fusion!r}; choose one of {sorted(FUSIONS)}")
    return FUSIONS[fusion](**kwargs)


# Fusion of a feature map with a question vector: the reasoning chapter's layers.

MAPS = "feature maps (batch, height, width, channels)"


def add_global_average(features):
    """Append the map's average over positions to every cell.

    ``(batch, height, width, channels)`` -> ``(batch, height, width, 2 * channels)``.
    """
    average = ops.mean(features, axis=(1, 2), keepdims=True)
    return ops.concatenate([features, ops.broadcast_to(average, ops.shape(features))], axis=-1)


def pool_positions(features):
    """The average and the maximum of every channel over positions.

    ``(batch, height, width, channels)`` -> ``(batch, 2 * channels)``. The
    average can count (how much of a feature the scene holds); the maximum
    keeps the strongest single cell.
    """
    return ops.concatenate(
        [ops.mean(features, axis=(1, 2)), ops.max(features, axis=(1, 2))], axis=-1
    )


class _MapAndVector(layers.Layer):
    """Base of the layers that fuse a feature map with a condition vector.

    Input: a dict with one ``(batch, height, width, channels)`` map (``map``,
    default ``"image"``) and one ``(batch, dim)`` vector (``condition``,
    default ``"question"``); both must be present (these layers have no rule
    for a missing one, and say so). Output: ``(batch, dim_out)``.
    """

    def __init__(self, map_name="image", condition_name="question", **kwargs):
        super().__init__(**kwargs)
        if map_name == condition_name:
            raise ValueError(f"map_name and condition_name must differ; both are {map_name!r}")
        self.map_name, self.condition_name = map_name, condition_name
        self.modalities = sorted((map_name, condition_name))

    def _split(self, inputs, presence=None):
        inputs = check_modalities(inputs, self.modalities, owner=self.name)
        missing = sorted(set(self.modalities) - set(inputs))
        if missing:
            raise ValueError(
                f"{self.name}: needs both {self.map_name!r} and "
                f"{self.condition_name!r}; missing {missing}"
            )
        check_rank(inputs[self.map_name], 4, what=self.map_name, expected=MAPS)
        check_rank(inputs[self.condition_name], 2, what=self.condition_name, expected=VECTORS)
        return (
            ops.cast(inputs[self.map_name], self.compute_dtype),
            ops.cast(inputs[self.condition_name], self.compute_dtype),
        )

    def _shapes(self, input_shape):
        shapes = check_modalities(input_shape, self.modalities, owner=self.name)
        if set(shapes) != set(self.modalities):
            raise ValueError(f"{self.name}: build with {self.modalities}; got {sorted(shapes)}")
        check_rank(shapes[self.map_name], 4, what=self.map_name, expected=MAPS)
        check_rank(shapes[self.condition_name], 2, what=self.condition_name, expected=VECTORS)
        return tuple(shapes[self.map_name]), tuple(shapes[self.condition_name])

    def get_config(self):
        return {
            **super().get_config(),
            "map_name": self.map_name,
            "condition_name": self.condition_name,
        }


@keras.saving.register_keras_serializable(package="crossmodal")
class FiLM(layers.Layer):
    """Feature-wise linear modulation: a condition scales and shifts each channel.

    ``call(features, condition)`` with features ``(batch, height, width,
    channels)`` and condition ``(batch, dim)`` returns ``features * (1 +
    gamma) + beta``, where ``[gamma, beta] = condition W + b`` (one ``gamma``
    and one ``beta`` per channel, shared by every position). ``W`` and ``b``
    start at zero, so a new FiLM layer is the identity and learns how far to
    depart from it (Perez et al., 2018). ``modulation(condition)`` returns
    ``(gamma, beta)``.
    """

    def build(self, features_shape, condition_shape):
        check_rank(features_shape, 4, what="features", expected=MAPS)
        check_rank(condition_shape, 2, what="condition", expected=VECTORS)
        self.project = layers.Dense(
            2 * features_shape[-1], kernel_initializer="zeros", name="project"
        )
        self.project.build(tuple(condition_shape))

    def modulation(self, condition):
        """``(gamma, beta)``, each ``(batch, channels)``."""
        gamma, beta = ops.split(self.project(condition), 2, axis=-1)
        return gamma, beta

    def call(self, features, condition):
        gamma, beta = self.modulation(ops.cast(condition, self.compute_dtype))
        return features * (1.0 + gamma[:, None, None, :]) + beta[:, None, None, :]

    def compute_output_shape(self, features_shape, condition_shape):
        return tuple(features_shape)


@keras.saving.register_keras_serializable(package="crossmodal")
class FiLMFusion(_MapAndVector):
    """Convolution blocks on a feature map, each modulated by the question; then pooled.

    Each block ``i`` reads the map (from the second block on, with x and y
    coordinate channels appended) and computes ``x = relu(FiLM(BN(conv3x3(x)), q))``, batch
    normalisation without its own scale and shift (FiLM supplies them); 2x2 pooling follows
    while the map is larger than ``cells x cells``: the maximum after the
    first block, the average after later ones. The last block also reads the
    map's average over positions copied to every cell, so that each cell can
    compare itself with an object anywhere. The result is pooled over
    positions (average and maximum, ``pool_positions``) and concatenated with
    ``q``: ``(batch, 2 * filters[-1] + dim_q)``.

    Two special cases are the reasoning chapter's controls: with
    ``modulate=False`` every FiLM is the identity (frozen at ``gamma = beta =
    0``), so the question meets the image only after pooling; with
    ``filters=()`` there are no blocks, only pooling and concatenation.
    Taught in the chapter "Cross-modal reasoning".

    Args:
        filters: filters of each convolution block.
        cells: side of the map below which no more pooling is done.
        modulate: whether the question modulates the blocks.
        map_name, condition_name: the keys of the map and the question.
    """

    def __init__(self, filters=(16,) * 6, cells=8, modulate=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = tuple(check_int(f, f"filters[{i}]") for i, f in enumerate(filters))
        self.cells = check_int(cells, "cells")
        self.modulate = bool(modulate)
        self.convs = [
            layers.Conv2D(f, 3, padding="same", name=f"conv{i}") for i, f in enumerate(self.filters)
        ]
        self.norms = [
            layers.BatchNormalization(center=False, scale=False, name=f"norm{i}")
            for i in range(len(self.filters))
        ]
        self.films = [FiLM(name=f"film{i}") for i in range(len(self.filters))] if modulate else []
        self.first_pooling = layers.MaxPooling2D(2)
        self.pooling = layers.AveragePooling2D(2)

    def _block_inputs(self, x, i):
        if i == 0:  # the first block reads the map as it comes
            return x
        if i == len(self.filters) - 1:
            x = add_global_average(x)
        return add_coordinates(x)

    def build(self, input_shape):
        image, condition = self._shapes(input_shape)
        shape = image
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            extra = 0 if i == 0 else 2 + (shape[3] if i == len(self.filters) - 1 else 0)
            conv.build((*shape[:3], shape[3] + extra))
            shape = (*shape[:3], conv.filters)
            norm.build(shape)
            if self.modulate:
                self.films[i].build(shape, condition)
            if shape[1] is not None and shape[1] > self.cells:
                shape = (shape[0], shape[1] // 2, shape[2] // 2, shape[3])
        self.output_channels = shape[3]

    def feature_maps(self, inputs, training=None):
        """The last block's map ``(batch, cells, cells, filters[-1])`` and the question."""
        x, condition = self._split(inputs)
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            x = norm(conv(self._block_inputs(x, i)), training=training)
            if self.modulate:
                x = self.films[i](x, condition)
            x = ops.relu(x)
            if x.shape[1] is not None and x.shape[1] > self.cells:
                x = (self.pooling if i else self.first_pooling)(x)
        return x, condition

    def pooled(self, maps, condition):
        """``pool_positions(maps)`` and the question, concatenated: the layer's output."""
        return ops.concatenate([pool_positions(maps), condition], axis=-1)

    def call(self, inputs, presence=None, training=None):
        return self.pooled(*self.feature_maps(inputs, training=training))

    def compute_output_shape(self, input_shape):
        image, condition = self._shapes(input_shape)
        channels = self.filters[-1] if self.filters else image[3]
        return (image[0], 2 * channels + condition[1])

    def get_config(self):
        return {
            **super().get_config(),
            "filters": list(self.filters),
            "cells": self.cells,
            "modulate": self.modulate,
        }


@keras.saving.register_keras_serializable(package="crossmodal")
class RelationFusion(_MapAndVector):
    """The Relation Network's pairwise relation (Santoro et al., 2017), summed over all pairs.

    Each cell of the ``(height, width)`` map is an object ``o_i`` (its
    channels; give the map coordinate channels to let positions in). An MLP
    ``g`` reads every ordered pair with the question, ``g([o_i; o_j; q])``,
    and the outputs are summed over all ``(height * width) ** 2`` pairs:
    ``(batch, hidden[-1])``. g's first layer is linear before its ReLU, so it
    is computed as ``o_i A + o_j B + (q C + b)`` from one product per cell and
    one per question, broadcast over the pairs: the same numbers as applying
    it to every concatenated pair. Taught in the chapter "Cross-modal reasoning".

    Args:
        hidden: widths of g's ReLU layers (at least one).
        map_name, condition_name: the keys of the map and the question.
    """

    def __init__(self, hidden=(128, 128), **kwargs):
        super().__init__(**kwargs)
        self.hidden = tuple(check_int(h, f"hidden[{i}]") for i, h in enumerate(hidden))
        if not self.hidden:
            raise ValueError("hidden must name at least one layer of g")
        self.later = [
            layers.Dense(h, activation="relu", name=f"g{i + 1}")
            for i, h in enumerate(self.hidden[1:])
        ]

    def build(self, input_shape):
        image, condition = self._shapes(input_shape)
        channels, units = image[3], self.hidden[0]
        self.left = self.add_weight(
            shape=(channels, units), initializer="glorot_uniform", name="left"
        )
        self.right = self.add_weight(
            shape=(channels, units), initializer="glorot_uniform", name="right"
        )
        self.asked = self.add_weight(
            shape=(condition[1], units), initializer="glorot_uniform", name="asked"
        )
        self.bias = self.add_weight(shape=(units,), initializer="zeros", name="bias")
        shape = (None, units)
        for dense in self.later:
            dense.build(shape)
            shape = (None, dense.units)

    def relations(self, inputs):
        """g over every pair of cells: ``(batch, cells, cells, hidden[-1])``."""
        maps, condition = self._split(inputs)
        objects = ops.reshape(maps, (-1, maps.shape[1] * maps.shape[2], maps.shape[3]))
        left = ops.matmul(objects, ops.cast(self.left, objects.dtype))  # o_i A
        right = ops.matmul(objects, ops.cast(self.right, objects.dtype))  # o_j B
        asked = ops.matmul(condition, ops.cast(self.asked, objects.dtype)) + ops.cast(
            self.bias, objects.dtype
        )
        x = ops.relu(left[:, :, None, :] + right[:, None, :, :] + asked[:, None, None, :])
        for dense in self.later:
            x = dense(x)
        return x

    def call(self, inputs, presence=None):
        return ops.sum(self.relations(inputs), axis=(1, 2))

    def compute_output_shape(self, input_shape):
        image, _ = self._shapes(input_shape)
        return (image[0], self.hidden[-1])

    def get_config(self):
        return {**super().get_config(), "hidden": list(self.hidden)}
