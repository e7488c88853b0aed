"""Fusion layers: a dict of ``(batch, dim_i)`` modality vectors -> ``(batch, dim)``.

All fusion layers share one contract (see ``Fusion``): they accept a dict
keyed by modality name (or a list, whose items are named ``m0``, ``m1``, ...),
remember at build time which modalities and widths they were built for, and
accept any non-empty subset of those modalities afterwards; how a missing
modality is handled is each layer's documented rule. The chapter
"Modalities and shared spaces" introduces fusion; the knowledge-fusion
chapter compares the layers.
"""

import keras
import numpy as np
from keras import layers, ops

from crossmodal.validation import check_modalities, check_rank


def _named(inputs):
    return {f"m{i}": x for i, x in enumerate(inputs)} if isinstance(inputs, (list, tuple)) \
        else inputs


def _with_one(z):
    """``[z; 1]``: a vector with a constant 1 appended (``(batch, d + 1)``)."""
    return ops.concatenate([z, ops.ones_like(z[:, :1])], axis=-1)


def _filled(vectors, modalities, dims):
    """Every modality in order, a missing one replaced by zeros of its width."""
    some = next(iter(vectors.values()))
    return [vectors[name] if name in vectors
            else ops.zeros((ops.shape(some)[0], dims[name]), dtype=some.dtype)
            for name in modalities]


def _presence(vectors, modalities, dtype):
    """``(batch, N)``: 1 where a modality is given and its encoding is not all zeros.

    ``ModalityDropout`` zeroes the encoding of a dropped modality, so layers
    that use this mask treat it exactly like a modality left out of the dict.
    """
    some = next(iter(vectors.values()))
    columns = [ops.cast(ops.any(ops.not_equal(vectors[name], 0), axis=-1), dtype)
               if name in vectors else ops.zeros((ops.shape(some)[0],), dtype)
               for name in modalities]
    return ops.stack(columns, axis=1)


class Fusion(layers.Layer):
    """Base class: validates and orders the modalities, then calls ``fuse``.

    Subclasses implement ``fuse(vectors)`` on a dict ordered as
    ``self.modalities`` that holds only the modalities present in the call,
    and ``output_dim()``. A subclass whose call takes extra arguments (such
    as ``return_gates``) overrides ``call`` and starts with ``present``.
    """

    def build(self, input_shape):
        shapes = _named(input_shape)
        if not isinstance(shapes, dict) or not shapes:
            raise ValueError(
                f"{self.name}: expected a non-empty dict of modality vectors; got {input_shape}"
            )
        for name, shape in shapes.items():
            check_rank(shape, 2, modality=name, expected="vectors (batch, dim)")
        # dicts are fused in sorted order, so key order never changes the result
        names = list(shapes) if isinstance(input_shape, (list, tuple)) else sorted(shapes)
        self.modalities = names
        self.input_dims = {name: int(shapes[name][-1]) for name in names}

    def call(self, inputs):
        return self.fuse(self.present(inputs))

    def present(self, inputs):
        """Validate ``inputs``; return the modalities present, ordered as ``self.modalities``."""
        inputs = check_modalities(_named(inputs), self.modalities, owner=self.name)
        for name, x in inputs.items():
            check_rank(x, 2, modality=name, expected="vectors (batch, dim)")
            if x.shape[-1] != self.input_dims[name]:
                raise ValueError(
                    f"{self.name}: modality {name!r} was built with width "
                    f"{self.input_dims[name]}; got shape {tuple(x.shape)}"
                )
        return {name: inputs[name] for name in self.modalities if name in inputs}

    def fuse(self, vectors):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        first = next(iter(_named(input_shape).values()))
        return (first[0], self.output_dim())


@keras.saving.register_keras_serializable(package="crossmodal")
class ConcatFusion(Fusion):
    """Early fusion by concatenation: width ``sum(dim_i)``.

    Missing modality: its slot is filled with zeros, so the output width never
    changes (a model trained with modality dropout has seen such zeros).
    """

    def fuse(self, vectors):
        return ops.concatenate(_filled(vectors, self.modalities, self.input_dims), axis=-1)

    def output_dim(self):
        return sum(self.input_dims.values())


@keras.saving.register_keras_serializable(package="crossmodal")
class MeanFusion(Fusion):
    """Fusion by averaging: all modalities must share one width ``dim``.

    Missing modality: the mean is taken over the modalities present.
    """

    def build(self, input_shape):
        super().build(input_shape)
        if len(set(self.input_dims.values())) > 1:
            raise ValueError(
                f"{self.name}: mean fusion needs equal widths; got {self.input_dims}"
            )

    def fuse(self, vectors):
        return ops.mean(ops.stack(list(vectors.values()), axis=0), axis=0)

    def output_dim(self):
        return next(iter(self.input_dims.values()))


@keras.saving.register_keras_serializable(package="crossmodal")
class GatedFusion(Fusion):
    """Gated multimodal unit (Arevalo et al., 2017) for any number of modalities.

    Each modality is squashed into a common width, ``h_i = tanh(W_i z_i + b_i)``,
    and gates computed from *all* inputs, ``g = W_g [z_1; ...; z_N] + b_g``
    (one gate per modality and output unit, ``(batch, N, dim)``), weigh them:
    ``h = sum_i g_i * h_i``. With ``gate="softmax"`` (default) the gates of a
    unit are a softmax over the modalities and sum to 1 (for two modalities
    this is the paper's ``z`` and ``1 - z``); with ``gate="sigmoid"`` each
    gate is an independent sigmoid in ``[0, 1]``.

    Missing modality (left out of the dict, or an all-zero encoding for one
    example, as ``ModalityDropout`` makes in training): its slot in the gate
    input is zero and its gate is removed (softmax over the modalities present
    only; sigmoid gate set to 0).

    Call with ``return_gates=True`` to get ``(fused, gates)``, gates
    ``(batch, N, dim)`` ordered as ``self.modalities``. Taught in the chapter
    "The knowledge-fusion network".

    Args:
        dim: output width.
        gate: ``"softmax"`` or ``"sigmoid"``.
    """

    def __init__(self, dim=32, gate="softmax", **kwargs):
        super().__init__(**kwargs)
        if gate not in ("softmax", "sigmoid"):
            raise ValueError(f"gate must be 'softmax' or 'sigmoid'; got {gate!r}")
        self.dim = dim
        self.gate = gate

    def build(self, input_shape):
        super().build(input_shape)
        batch = next(iter(_named(input_shape).values()))[0]
        self.transforms = []
        for name in self.modalities:
            dense = layers.Dense(self.dim, activation="tanh", name=f"transform_{name}")
            dense.build((batch, self.input_dims[name]))
            self.transforms.append(dense)
        self.gates = layers.Dense(len(self.modalities) * self.dim, name="gates")
        self.gates.build((batch, sum(self.input_dims.values())))

    def call(self, inputs, return_gates=False):
        vectors = self.present(inputs)
        parts = [ops.cast(z, self.compute_dtype)
                 for z in _filled(vectors, self.modalities, self.input_dims)]
        h = ops.stack([t(z) for t, z in zip(self.transforms, parts)], axis=1)  # (b, N, dim)
        logits = ops.reshape(self.gates(ops.concatenate(parts, axis=-1)),
                             (-1, len(self.modalities), self.dim))
        keep = _presence(vectors, self.modalities, logits.dtype)[:, :, None]
        if self.gate == "softmax":  # in float32: a float16 mask of -1e9 would be -inf
            masked = ops.where(keep > 0, ops.cast(logits, "float32"), -1e9)
            gates = ops.cast(ops.softmax(masked, axis=1), logits.dtype)
        else:
            gates = ops.sigmoid(logits) * keep
        fused = ops.sum(gates * h, axis=1)
        return (fused, gates) if return_gates else fused

    def output_dim(self):
        return self.dim

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "gate": self.gate}


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
        self.dim = dim

    def build(self, input_shape):
        super().build(input_shape)
        if self.dim is not None:
            batch = next(iter(_named(input_shape).values()))[0]
            self.project = layers.Dense(self.dim, name="project")
            self.project.build((batch, self.tensor_dim()))

    def tensor_dim(self):
        """Width of the flattened tensor, ``prod(dim_i + 1)``."""
        return int(np.prod([d + 1 for d in self.input_dims.values()]))

    def fuse(self, vectors):
        parts = [_with_one(ops.cast(z, self.compute_dtype))
                 for z in _filled(vectors, self.modalities, self.input_dims)]
        tensor = parts[0]
        for z in parts[1:]:
            tensor = ops.reshape(tensor[:, :, None] * z[:, None, :],
                                 (-1, tensor.shape[-1] * z.shape[-1]))
        return tensor if self.dim is None else self.project(tensor)

    def output_dim(self):
        return self.tensor_dim() if self.dim is None else self.dim

    def get_config(self):
        return {**super().get_config(), "dim": self.dim}


@keras.saving.register_keras_serializable(package="crossmodal")
class LowRankFusion(Fusion):
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
        super().__init__(**kwargs)
        self.dim = dim
        self.rank = rank

    def build(self, input_shape):
        super().build(input_shape)
        self.factors = [
            self.add_weight(shape=(self.rank, self.input_dims[name] + 1, self.dim),
                            initializer="glorot_normal", name=f"factor_{name}")
            for name in self.modalities
        ]
        self.rank_weights = self.add_weight(shape=(self.rank,), initializer="glorot_normal",
                                            name="rank_weights")
        self.bias = self.add_weight(shape=(self.dim,), initializer="zeros", name="bias")

    def fuse(self, vectors):
        parts = _filled(vectors, self.modalities, self.input_dims)
        product = None
        for factor, z in zip(self.factors, parts):
            term = ops.einsum("bd,rdo->bro", _with_one(ops.cast(z, self.compute_dtype)), factor)
            product = term if product is None else product * term
        return ops.einsum("bro,r->bo", product, self.rank_weights) + self.bias

    def output_dim(self):
        return self.dim

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "rank": self.rank}


@keras.saving.register_keras_serializable(package="crossmodal")
class AttentionFusion(Fusion):
    """Self-attention over one token per modality (Vaswani et al., 2017).

    Each modality is projected to a common width ``dim`` and a learned
    modality embedding is added, giving ``N`` tokens; one multi-head
    self-attention block (residual connection and layer normalisation) lets
    every token read the others, and the output is the mean of the tokens.

    Missing modality (left out of the dict, or an all-zero encoding for one
    example, as ``ModalityDropout`` makes in training): its token is masked
    out as a key (the softmax runs over the modalities present only) and left
    out of the mean.

    Call with ``return_attention=True`` to get ``(fused, weights)``, weights
    ``(batch, heads, N, N)`` (query, key; ordered as ``self.modalities``),
    each row summing to 1. Taught in the chapter "The knowledge-fusion network".

    Args:
        dim: common token width and output width.
        heads: attention heads (must divide ``dim``).
    """

    def __init__(self, dim=32, heads=1, **kwargs):
        super().__init__(**kwargs)
        if dim % heads:
            raise ValueError(f"heads must divide dim; got dim={dim}, heads={heads}")
        self.dim = dim
        self.heads = heads

    def build(self, input_shape):
        super().build(input_shape)
        batch = next(iter(_named(input_shape).values()))[0]
        n = len(self.modalities)
        self.projections = []
        for name in self.modalities:
            dense = layers.Dense(self.dim, name=f"project_{name}")
            dense.build((batch, self.input_dims[name]))
            self.projections.append(dense)
        self.modality_embedding = self.add_weight(
            shape=(n, self.dim), initializer="random_normal", name="modality_embedding")
        self.attention = layers.MultiHeadAttention(self.heads, self.dim // self.heads,
                                                   name="attention")
        self.attention.build((batch, n, self.dim), (batch, n, self.dim))
        self.norm = layers.LayerNormalization(name="norm")
        self.norm.build((batch, n, self.dim))

    def call(self, inputs, return_attention=False):
        vectors = self.present(inputs)
        parts = _filled(vectors, self.modalities, self.input_dims)
        tokens = ops.stack([p(ops.cast(z, self.compute_dtype))
                            for p, z in zip(self.projections, parts)], axis=1)
        tokens = tokens + self.modality_embedding[None]
        present = _presence(vectors, self.modalities, tokens.dtype)  # (batch, N)
        n = len(self.modalities)
        keys = ops.broadcast_to(ops.cast(present, "bool")[:, None, :],
                                (ops.shape(tokens)[0], n, n))
        attended, weights = self.attention(tokens, tokens, attention_mask=keys,
                                           return_attention_scores=True)
        tokens = self.norm(tokens + attended)
        fused = (ops.sum(tokens * present[:, :, None], axis=1)
                 / ops.maximum(ops.sum(present, axis=1, keepdims=True), 1.0))
        return (fused, weights) if return_attention else fused

    def output_dim(self):
        return self.dim

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "heads": self.heads}


FUSIONS = {"concat": ConcatFusion, "mean": MeanFusion, "gated": GatedFusion,
           "tensor": TensorFusion, "low_rank": LowRankFusion, "attention": AttentionFusion}


def get(fusion):
    """A fusion layer from a name in ``FUSIONS`` or a ``Fusion`` instance."""
    if isinstance(fusion, Fusion):
        return fusion
    if fusion not in FUSIONS:
        raise ValueError(f"unknown fusion {fusion!r}; choose one of {sorted(FUSIONS)}")
    return FUSIONS[fusion]()
