"""The dual encoder: two modalities aligned in one space by a contrastive loss.

Each modality has its own encoder and a linear projection to a shared
``embedding_dim``; embeddings are L2-normalised, so the dot product is the
cosine similarity used for retrieval. Training minimises the symmetric
InfoNCE loss (``crossmodal.losses.contrastive_loss``) with a learnable
temperature, as in CLIP. Taught in the chapter "Cross-modal mapping and
alignment".
"""

import math

import keras
import numpy as np
from keras import layers, ops

from crossmodal.losses import contrastive_loss
from crossmodal.validation import check_modalities


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
class DualEncoder(keras.Model):
    """Two encoders + projections -> unit vectors in one ``embedding_dim`` space.

    ``call(inputs)`` takes a dict with either or both modalities and returns a
    dict of ``(batch, embedding_dim)`` unit vectors for the modalities given.
    ``fit(x_dict)`` with both modalities and no targets minimises the
    contrastive loss; compile with an optimizer only.

    The temperature is ``exp(-log_scale)``: ``log_scale`` starts at
    ``log(1 / temperature)`` and is clipped to ``[0, log(max_scale)]``, so the
    temperature stays in ``[1 / max_scale, 1]`` (CLIP: 0.07 and 100).

    Args:
        encoders: dict of exactly two modality names to encoder layers.
        embedding_dim: width of the shared space.
        temperature: initial temperature.
        max_scale: largest allowed ``1 / temperature``.
        learn_temperature: whether the temperature is trained.
    """

    def __init__(self, encoders, embedding_dim, temperature=0.07, max_scale=100.0,
                 learn_temperature=True, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(encoders, dict) or len(encoders) != 2:
            got = sorted(encoders) if isinstance(encoders, dict) else type(encoders).__name__
            raise ValueError(f"DualEncoder needs a dict of exactly two modalities; got {got}")
        if not 1.0 / max_scale <= temperature <= 1.0:
            raise ValueError(
                f"temperature must lie in [1/max_scale, 1] = [{1.0 / max_scale}, 1]; "
                f"got {temperature}"
            )
        self.modalities = sorted(encoders)
        self.encoders = [encoders[m] for m in self.modalities]
        self.projections = [layers.Dense(embedding_dim, use_bias=False, name=f"project_{m}")
                            for m in self.modalities]
        self.embedding_dim = embedding_dim
        self.initial_temperature = float(temperature)
        self.max_scale = float(max_scale)
        self.learn_temperature = learn_temperature
        self.log_scale = self.add_weight(
            shape=(), name="log_scale",
            initializer=keras.initializers.Constant(math.log(1.0 / temperature)),
            constraint=ClipValue(0.0, math.log(max_scale)),
            trainable=learn_temperature,
        )

    @property
    def temperature(self):
        """The current temperature (a scalar tensor), within its clip."""
        return ops.exp(-ops.clip(self.log_scale, 0.0, math.log(self.max_scale)))

    def build(self, inputs_shape):
        check_modalities(inputs_shape, self.modalities, owner=self.name)
        for modality, encoder, projection in zip(self.modalities, self.encoders,
                                                 self.projections):
            if modality in inputs_shape:
                shape = tuple(inputs_shape[modality])
                # deserialised encoders arrive built; building twice adds weights
                if not encoder.built:
                    encoder.build(shape)
                if not projection.built:
                    projection.build(encoder.compute_output_shape(shape))

    def call(self, inputs, training=None):
        inputs = check_modalities(inputs, self.modalities, owner=self.name)
        out = {}
        for modality, encoder, projection in zip(self.modalities, self.encoders,
                                                 self.projections):
            if modality in inputs:
                z = projection(encoder(inputs[modality], training=training))
                out[modality] = ops.cast(z, "float32") / ops.maximum(
                    ops.norm(ops.cast(z, "float32"), axis=-1, keepdims=True), 1e-12)
        return out

    def fit(self, x=None, *args, **kwargs):
        if isinstance(x, dict):  # views of different lengths: a clear error, early
            check_modalities(x, self.modalities, owner=self.name)
        return super().fit(x, *args, **kwargs)

    def embed(self, inputs, batch_size=256):
        """NumPy unit embeddings of one modality: ``embed({"image": x})`` -> ``(n, d)``."""
        inputs = check_modalities(inputs, self.modalities, owner=self.name)
        if len(inputs) != 1:
            raise ValueError(f"{self.name}: embed takes one modality; got {sorted(inputs)}")
        ((modality, x),) = inputs.items()
        # eager batches: no traced predict function per modality and input shape
        parts = [self({modality: x[i:i + batch_size]}, training=False)[modality]
                 for i in range(0, len(x), batch_size)]
        return np.concatenate([ops.convert_to_numpy(p) for p in parts])

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        missing = [m for m in self.modalities if m not in y_pred]
        if missing:
            raise ValueError(f"{self.name}: training needs both modalities; missing {missing}")
        first, second = (y_pred[m] for m in self.modalities)
        loss = contrastive_loss(first, second, self.temperature)
        if self.losses:
            loss = loss + ops.sum(self.losses)
        return loss

    def get_config(self):
        return {
            **super().get_config(),
            "encoders": {m: keras.saving.serialize_keras_object(e)
                         for m, e in zip(self.modalities, self.encoders)},
            "embedding_dim": self.embedding_dim,
            "temperature": self.initial_temperature,
            "max_scale": self.max_scale,
            "learn_temperature": self.learn_temperature,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoders"] = {m: keras.saving.deserialize_keras_object(e)
                              for m, e in config["encoders"].items()}
        return cls(**config)
