"""Missing modalities: modality dropout for training, and data that really lacks a modality.

Whether a modality is present is carried explicitly, as a *presence* dict of
``(batch,)`` arrays (1 = present, 0 = absent) beside the encodings; the fusion
layers honour it (``crossmodal.fusion``). Ngiam et al. (2011) trained their
bimodal autoencoder on examples where one modality had been blanked out, yet
asked it to reconstruct both; ``ModalityDropout`` does this by marking
modalities absent at random during training (the chapter "The multimodal
autoencoder"). ``EmptyAsMissing`` handles the other case, data in which some
examples really lack a modality (the chapter "Frontiers and challenges").
"""

import itertools

import keras
import numpy as np
from keras import layers, ops

from crossmodal.serialization import Composite, serialize
from crossmodal.validation import check_int, check_modalities, check_rank


@keras.saving.register_keras_serializable(package="crossmodal")
class ModalityDropout(layers.Layer):
    """Present each training example with one subset of its modalities.

    Input and output: a presence dict ``{name: (batch,)}`` of 1 (present) and
    0 (absent). In training, every example draws one of ``subsets`` (with
    ``probabilities``) and the modalities outside it become absent; a draw
    that would leave an example with no modality at all leaves it as it was.
    At inference the layer returns its input. The encodings themselves are
    not touched: each fusion layer decides what an absent modality means.

    Args:
        subsets: lists of modality names, each a subset that may be presented.
            ``None``: each modality alone and all of them together
            (for two modalities: first only, second only, both).
        probabilities: one probability per subset, summing to 1
            (``None``: uniform).
        seed: seed of the layer's ``keras.random.SeedGenerator``.
    """

    def __init__(self, subsets=None, probabilities=None, *, seed=None, **kwargs):
        super().__init__(**kwargs)
        if subsets is not None:
            if isinstance(subsets, (str, bytes)) or not hasattr(subsets, "__iter__"):
                raise TypeError(
                    f"subsets must be a list of lists of modality names; got {subsets!r}"
                )
            subsets = [sorted(set(s)) for s in subsets]
            if not subsets or any(not s for s in subsets):
                raise ValueError(
                    f"subsets must be non-empty lists of modality names; got {subsets}"
                )
        if probabilities is not None:
            if subsets is None:
                raise ValueError("probabilities need explicit subsets to refer to")
            probabilities = [float(p) for p in probabilities]
            if len(probabilities) != len(subsets):
                raise ValueError(
                    f"got {len(probabilities)} probabilities for {len(subsets)} subsets"
                )
            if min(probabilities) < 0 or not np.isclose(sum(probabilities), 1.0):
                raise ValueError(
                    f"probabilities must be non-negative and sum to 1; got {probabilities}"
                )
        if seed is not None:
            check_int(seed, "seed", minimum=0)
        self.subsets = subsets
        self.probabilities = probabilities
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if not isinstance(input_shape, dict) or not input_shape:
            raise ValueError(f"{self.name}: expected a non-empty presence dict; got {input_shape}")
        for name, shape in input_shape.items():
            check_rank(shape, 1, what=f"presence of {name}", expected="(batch,) 1 or 0")
        self.modalities = sorted(input_shape)
        subsets = self.subsets
        if subsets is None:
            subsets = [[name] for name in self.modalities]
            if len(self.modalities) > 1:
                subsets.append(list(self.modalities))
        for subset in subsets:
            unknown = sorted(set(subset) - set(self.modalities))
            if unknown:
                raise ValueError(
                    f"{self.name}: subset {subset} names unknown modality {unknown[0]!r}; "
                    f"the inputs are {self.modalities}"
                )
        probabilities = self.probabilities or [1.0 / len(subsets)] * len(subsets)
        # masks[s, m] = 1 when subset s presents modality m
        self.masks = np.array(
            [[float(m in subset) for m in self.modalities] for subset in subsets], dtype="float32"
        )
        self.logits = np.log(np.maximum(np.asarray(probabilities, "float32"), 1e-30))[None]

    def call(self, presence, training=None):
        presence = check_modalities(presence, self.modalities, owner=self.name)
        if not training:
            return presence
        some = next(iter(presence.values()))
        batch = ops.shape(some)[0]
        draws = keras.random.categorical(
            ops.convert_to_tensor(self.logits), batch, seed=self.seed_generator
        )[0]
        drawn = ops.take(ops.convert_to_tensor(self.masks), draws, axis=0)  # (batch, modalities)
        given = {name: ops.cast(p, "float32") for name, p in presence.items()}
        kept = {name: p * drawn[:, self.modalities.index(name)] for name, p in given.items()}
        anything = ops.sum(ops.stack(list(kept.values()), axis=1), axis=1) > 0
        return {
            name: ops.cast(ops.where(anything, kept[name], given[name]), presence[name].dtype)
            for name in presence
        }

    def compute_output_shape(self, input_shape):
        return dict(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "subsets": self.subsets,
            "probabilities": self.probabilities,
            "seed": self.seed,
        }


def all_subsets(modalities):
    """Every non-empty subset of ``modalities``, smallest first (for ``encode``)."""
    modalities = sorted(modalities)
    return [
        list(c)
        for r in range(1, len(modalities) + 1)
        for c in itertools.combinations(modalities, r)
    ]


@keras.saving.register_keras_serializable(package="crossmodal")
class EmptyAsMissing(Composite, layers.Layer):
    """Wrap an encoder so that an all-zero input marks the modality absent for that example.

    ``call`` is the encoder's: ``(batch, ...)`` -> ``(batch, dim)``.
    ``presence(inputs)`` gives ``(batch,)``: 0 for every example whose input is
    all zeros (a caption of padding only, a blank image), 1 otherwise. A
    ``MultimodalEncoder`` asks each encoder that has a ``presence`` method,
    so a data set in which some examples lack a modality can be stored as
    arrays, zeros where a modality is missing, and trained with ``fit``: the
    model then meets exactly what it meets when that modality is left out of
    the input dict. Only the *input* decides: an encoder whose code happens to
    be all zeros still counts as present. Taught in the chapter "Frontiers
    and challenges".

    Args:
        encoder: the encoder layer to wrap.
    """

    NESTED = ("encoder",)

    def __init__(self, encoder, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(encoder, layers.Layer):
            raise TypeError(f"encoder must be a Keras layer; got {type(encoder).__name__}")
        self.encoder = encoder

    def build(self, input_shape):
        if not self.encoder.built:
            self.encoder.build(input_shape)

    def call(self, inputs, training=None):
        return self.encoder(inputs, training=training)

    def presence(self, inputs):
        """``(batch,)`` float32: 1 where the input holds anything but zeros."""
        axes = tuple(range(1, len(inputs.shape)))
        given = ops.any(ops.not_equal(inputs, ops.zeros((), inputs.dtype)), axis=axes)
        return ops.cast(given, "float32")

    def compute_output_shape(self, input_shape):
        return self.encoder.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "encoder": serialize(self.encoder)}
