"""Cross-modal mapping: encode one modality, decode another.

``CrossModalMapper`` is the regression (or classification) route from a
source modality to a target modality through a latent vector. The chapter
"Cross-modal mapping and alignment" trains it from captions to images and
from images to attributes, and shows where regression to one target fails.
"""

import keras
from keras import layers

from crossmodal.validation import check_modalities


@keras.saving.register_keras_serializable(package="crossmodal")
class CrossModalMapper(keras.Model):
    """``{source: x}`` -> encoder -> ``(batch, latent_dim)`` -> decoder -> ``{target: y}``.

    Train it with the built-in ``compile``/``fit`` on ``({source: x}, {target: y})``
    and a loss keyed by ``target``.

    Args:
        source: name of the input modality.
        target: name of the output modality.
        encoder: a layer mapping the source batch to ``(batch, dim)``.
        decoder: a layer mapping ``(batch, latent_dim)`` to the target, e.g.
            ``VectorDecoder`` or ``ImageDecoder``.
        latent_dim: width of the linear latent between encoder and decoder.
    """

    def __init__(self, source, target, encoder, decoder, latent_dim, **kwargs):
        super().__init__(**kwargs)
        if source == target:
            raise ValueError(f"source and target must differ; both are {source!r}")
        self.source = source
        self.target = target
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = latent_dim
        self.latent = layers.Dense(latent_dim, name="latent")

    def build(self, inputs_shape):
        check_modalities(inputs_shape, [self.source], owner=self.name)
        shape = tuple(inputs_shape[self.source])
        encoded = self.encoder.compute_output_shape(shape)
        # deserialised sub-layers arrive built; building twice adds weights
        for layer, layer_shape in ((self.encoder, shape), (self.latent, encoded),
                                   (self.decoder, (encoded[0], self.latent_dim))):
            if not layer.built:
                layer.build(layer_shape)

    def encode(self, inputs, training=None):
        """The latent ``(batch, latent_dim)`` of ``{source: x}``."""
        inputs = check_modalities(inputs, [self.source], owner=self.name)
        if self.source not in inputs:
            raise ValueError(f"{self.name}: needs the {self.source!r} modality; "
                             f"got {sorted(inputs)}")
        return self.latent(self.encoder(inputs[self.source], training=training))

    def call(self, inputs, training=None):
        return {self.target: self.decoder(self.encode(inputs, training=training))}

    def get_config(self):
        return {
            **super().get_config(),
            "source": self.source,
            "target": self.target,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "latent_dim": self.latent_dim,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
