"""Modality dropout: train a model to work from any subset of its modalities.

Ngiam et al. (2011) trained their bimodal autoencoder on examples where one
modality had been blanked out, yet asked it to reconstruct both; the model
then has to infer a missing modality from the present one. The chapter
"The multimodal autoencoder" teaches the trick and measures what it buys.
``EmptyAsMissing`` handles the other case, data in which some examples
really lack a modality (the chapter "Frontiers and challenges").
"""

import itertools

import keras
import numpy as np
from keras import layers, ops

from crossmodal.validation import check_modalities, check_rank


@keras.saving.register_keras_serializable(package="crossmodal")
class ModalityDropout(layers.Layer):
    """Present each training example with one subset of its modalities.

    Input and output: a dict of modality encodings, each ``(batch, dim_i)``.
    In training, every example draws one of ``subsets`` (with
    ``probabilities``) and the encodings of the modalities outside that subset
    are set to zero. At inference the layer is the identity.

    Args:
        subsets: lists of modality names, each a subset that may be presented.
            ``None``: each modality alone and all of them together
            (for two modalities: first only, second only, both).
        probabilities: one probability per subset, summing to 1
            (``None``: uniform).
        seed: seed of the layer's ``keras.random.SeedGenerator``.
    """

    EXPECTED = "encodings (batch, dim)"

    def __init__(self, subsets=None, probabilities=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if subsets is not None:
            subsets = [sorted(set(s)) for s in subsets]
            if not subsets or any(not s for s in subsets):
                raise ValueError(
                    f"subsets must be non-empty lists of modality names; got {subsets}"
                )
        if probabilities is not None:
            probabilities = [float(p) for p in probabilities]
            if subsets is None:
                raise ValueError("probabilities need explicit subsets to refer to")
            if len(probabilities) != len(subsets):
                raise ValueError(
                    f"got {len(probabilities)} probabilities for {len(subsets)} subsets"
                )
            if min(probabilities) < 0 or not np.isclose(sum(probabilities), 1.0):
                raise ValueError(
                    f"probabilities must be non-negative and sum to 1; got {probabilities}"
                )
        self.subsets = subsets
        self.probabilities = probabilities
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if not isinstance(input_shape, dict) or not input_shape:
            raise ValueError(
                f"{self.name}: expected a non-empty dict of modality encodings; got {input_shape}"
            )
        for name, shape in input_shape.items():
            check_rank(shape, 2, modality=name, expected=self.EXPECTED)
        self.modalities = sorted(input_shape)
        if self.subsets is None:
            singles = [[name] for name in self.modalities]
            self.subsets = singles + ([list(self.modalities)] if len(self.modalities) > 1 else [])
        for subset in self.subsets:
            unknown = sorted(set(subset) - set(self.modalities))
            if unknown:
                raise ValueError(
                    f"{self.name}: subset {subset} names unknown modality {unknown[0]!r}; "
                    f"the inputs are {self.modalities}"
                )
        if self.probabilities is None:
            self.probabilities = [1.0 / len(self.subsets)] * len(self.subsets)
        # masks[s, m] = 1 when subset s presents modality m
        self.masks = np.array(
            [[float(m in subset) for m in self.modalities] for subset in self.subsets],
            dtype="float32",
        )

    def call(self, inputs, training=None):
        inputs = check_modalities(inputs, self.modalities, owner=self.name)
        if not training:
            return inputs
        some = next(iter(inputs.values()))
        batch = ops.shape(some)[0]
        logits = ops.log(ops.convert_to_tensor([self.probabilities], dtype="float32"))
        draws = keras.random.categorical(logits, batch, seed=self.seed_generator)[0]
        mask = ops.take(ops.convert_to_tensor(self.masks), draws, axis=0)  # (batch, modalities)
        return {
            name: x * ops.cast(mask[:, self.modalities.index(name), None], x.dtype)
            for name, x in inputs.items()
        }

    def compute_output_shape(self, input_shape):
        return dict(input_shape)

    def get_config(self):
        return {**super().get_config(), "subsets": self.subsets,
                "probabilities": self.probabilities, "seed": self.seed}


def all_subsets(modalities):
    """Every non-empty subset of ``modalities``, smallest first (for ``encode``)."""
    modalities = sorted(modalities)
    return [list(c) for r in range(1, len(modalities) + 1)
            for c in itertools.combinations(modalities, r)]


@keras.saving.register_keras_serializable(package="crossmodal")
class EmptyAsMissing(layers.Layer):
    """Wrap an encoder so that an all-zero input counts as a missing modality.

    ``(batch, ...)`` -> the encoder's ``(batch, dim)``, except that every
    example whose input is all zeros (a caption of padding only, a blank
    image) gets an all-zero encoding. The fusion layers read an all-zero
    encoding as an absent modality (``GatedFusion`` and ``AttentionFusion``
    leave it out of their softmax; ``ConcatFusion`` fills a missing slot with
    zeros anyway), so a data set in which some examples lack a modality can be
    stored as arrays, zeros where a modality is missing, and trained with
    ``fit``: the model then meets exactly what it meets when that modality is
    left out of the input dict. Taught in the chapter "Frontiers and
    challenges".

    Args:
        encoder: the encoder layer to wrap.
    """

    def __init__(self, encoder, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(encoder, layers.Layer):
            raise ValueError(f"encoder must be a Keras layer; got {type(encoder).__name__}")
        self.encoder = encoder

    def build(self, input_shape):
        if not self.encoder.built:
            self.encoder.build(input_shape)

    def call(self, inputs, training=None):
        code = self.encoder(inputs, training=training)
        axes = tuple(range(1, len(inputs.shape)))
        present = ops.any(ops.not_equal(inputs, ops.zeros((), inputs.dtype)), axis=axes)
        return ops.where(present[:, None], code, ops.zeros_like(code))

    def compute_output_shape(self, input_shape):
        return self.encoder.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(),
                "encoder": keras.saving.serialize_keras_object(self.encoder)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)
