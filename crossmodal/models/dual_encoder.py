"""The dual encoder: modalities aligned in one space by a contrastive loss.

Each modality has its own encoder and a linear projection to a shared
``projection_dim``, followed by ``keras.layers.UnitNormalization``, so the dot
product of two embeddings is their cosine similarity, as retrieval uses it.
Training minimises the symmetric InfoNCE loss
(``crossmodal.losses.contrastive_loss``) with a learnable temperature, as in
CLIP; with more than two modalities, the mean of the loss over every pair.
Taught in the chapter "Cross-modal mapping and alignment".
"""

import itertools
import math

import keras
import numpy as np
from keras import layers, ops

from crossmodal.losses import contrastive_loss
from crossmodal.multimodal import CheckedInputs
from crossmodal.serialization import Composite, serialize
from crossmodal.validation import check_int, check_layers, check_modalities, check_number


@keras.saving.register_keras_serializable(package="crossmodal")
class ClipValue(keras.constraints.Constraint):
    """Keep every entry of a weight within ``[low, high]`` after each update."""

    def __init__(self, low, high):
        self.low = float(low)
        self.high = float(high)

    def __call__(self, w):
        return ops.clip(w, self.low, self.high)

    def get_config(self):
        return {"low": self.low, "high": self.high}


@keras.saving.register_keras_serializable(package="crossmodal")
class DualEncoder(CheckedInputs, Composite, keras.Model):
    """One encoder and projection per modality -> unit vectors in one ``projection_dim`` space.

    ``call(inputs)`` takes a dict with any of the modalities and returns a
    dict of ``(batch, projection_dim)`` unit vectors for the modalities given.
    ``fit(x_dict)`` with every modality and no targets minimises the
    contrastive loss; compile with an optimizer only.

    The temperature is ``exp(-log_scale)``: ``log_scale`` starts at
    ``log(1 / temperature)`` and is kept in ``[0, log(max_scale)]`` after every
    update, so the temperature stays in ``[1 / max_scale, 1]`` (CLIP: 0.07 and 100).

    Args:
        encoders: dict of two or more modality names to encoder layers.
        projection_dim: width of the shared space.
        temperature: initial temperature, in ``[1 / max_scale, 1]``.
        max_scale: largest allowed ``1 / temperature`` (> 1).
        learn_temperature: whether the temperature is trained.
    """

    NESTED = ("encoders",)

    def __init__(
        self,
        encoders,
        projection_dim=32,
        *,
        temperature=0.07,
        max_scale=100.0,
        learn_temperature=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        encoders = check_layers(encoders, "encoders", minimum=2)
        self.max_scale = check_number(max_scale, "max_scale", above=1.0)
        self.initial_temperature = check_number(
            temperature, "temperature", at_least=1.0 / self.max_scale, at_most=1.0
        )
        self.projection_dim = check_int(projection_dim, "projection_dim")
        self.learn_temperature = bool(learn_temperature)
        self.modalities = list(encoders)
        self.encoders = encoders
        self.projections = {
            name: layers.Dense(self.projection_dim, use_bias=False, name=f"project_{name}")
            for name in self.modalities
        }
        self.normalize = layers.UnitNormalization(dtype="float32", name="normalize")
        self.log_scale = self.add_weight(
            shape=(),
            name="log_scale",
            initializer=keras.initializers.Constant(math.log(1.0 / self.initial_temperature)),
            constraint=ClipValue(0.0, math.log(self.max_scale)),
            trainable=self.learn_temperature,
        )

    @property
    def temperature(self):
        """The current temperature (a scalar tensor)."""
        return ops.exp(-ops.cast(self.log_scale, "float32"))

    def build(self, input_shape):
        shapes = check_modalities(input_shape, self.modalities, owner=self.name)
        for name, shape in shapes.items():
            encoder, projection = self.encoders[name], self.projections[name]
            if not encoder.built:  # layers restored from a config arrive built
                encoder.build(tuple(shape))
            if not projection.built:
                projection.build(encoder.compute_output_shape(tuple(shape)))

    def call(self, inputs, training=None):
        inputs = check_modalities(inputs, self.modalities, owner=self.name)
        out = {}
        for name, x in inputs.items():
            try:
                code = self.encoders[name](x, training=training)
            except ValueError as error:  # say which modality the encoder was reading
                raise ValueError(f"{self.name}: modality {name!r}: {error}") from error
            out[name] = self.normalize(ops.cast(self.projections[name](code), "float32"))
        return out

    def compute_output_shape(self, input_shape):
        return {name: (shape[0], self.projection_dim) for name, shape in input_shape.items()}

    def embed(self, inputs, batch_size=256):
        """NumPy unit embeddings of one modality: ``embed({"image": x})`` -> ``(n, d)``."""
        inputs = check_modalities(inputs, self.modalities, owner=self.name)
        if len(inputs) != 1:
            raise ValueError(f"{self.name}: embed takes one modality; got {sorted(inputs)}")
        check_int(batch_size, "batch_size")
        ((modality, x),) = inputs.items()
        self._check_arrays({modality: x})
        # eager batches: no traced predict function per modality and input shape
        parts = [
            self({modality: x[i : i + batch_size]}, training=False)[modality]
            for i in range(0, len(x), batch_size)
        ]
        return np.concatenate([ops.convert_to_numpy(p) for p in parts])

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        missing = [m for m in self.modalities if m not in y_pred]
        if missing:
            raise ValueError(f"{self.name}: training needs every modality; missing {missing}")
        pairs = list(itertools.combinations(self.modalities, 2))
        loss = sum(
            contrastive_loss(y_pred[a], y_pred[b], self.temperature) for a, b in pairs
        ) / len(pairs)
        if self.losses:
            loss = loss + ops.sum(self.losses)
        return loss

    def get_config(self):
        return {
            **super().get_config(),
            "encoders": serialize(self.encoders),
            "projection_dim": self.projection_dim,
            "temperature": self.initial_temperature,
            "max_scale": self.max_scale,
            "learn_temperature": self.learn_temperature,
        }
