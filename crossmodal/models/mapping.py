"""Cross-modal mapping: encode some modalities into a latent vector, decode others from it.

``CrossModalMapper`` is the regression (or classification) route from source
modalities to target modalities through a shared latent: a
``MultimodalEncoder``, a dense layer to the latent, one decoder per target.
The chapter "Cross-modal mapping and alignment" trains it from captions to
images and from images to attributes, and shows where regression to one
target fails; ``MultimodalAutoencoder`` is the same model decoding its own
inputs.
"""

import keras
from keras import layers

from crossmodal.multimodal import EncoderModel, MultimodalEncoder, describe
from crossmodal.serialization import Composite, serialize
from crossmodal.validation import check_int, check_layers


@keras.saving.register_keras_serializable(package="crossmodal")
class CrossModalMapper(EncoderModel, Composite, keras.Model):
    """Sources to targets through one latent.

    ``{source: x, ...}`` -> ``MultimodalEncoder`` -> ``(batch, latent_dim)``
    -> ``{target: y, ...}``.

    Train it with the built-in ``compile``/``fit`` on ``(inputs, targets)``
    dicts and a loss keyed by target name. ``encode`` gives the latent from
    any non-empty subset of the sources, ``decode`` every target from a latent.

    Args:
        encoders: dict of source modality name to encoder layer.
        decoders: dict of target modality name to decoder layer (``(batch,
            latent_dim)`` -> the target), e.g. ``VectorDecoder`` or ``ImageDecoder``.
        fusion: how several sources are fused (a ``Fusion`` layer or name).
        latent_dim: width of the linear latent between encoders and decoders.
        modality_dropout: ``None`` or a ``ModalityDropout`` layer.

    Raises:
        TypeError: if ``encoders`` or ``decoders`` is not a dict of layers.
        ValueError: for an empty dict or ``latent_dim < 1``.
    """

    NESTED = ("encoders", "decoders", "fusion", "modality_dropout")

    def __init__(
        self, encoders, decoders, *, fusion="concat", latent_dim=32, modality_dropout=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.decoders = check_layers(decoders, "decoders")
        self.encoder = MultimodalEncoder(encoders, fusion, modality_dropout, name="encoder")
        self.latent_dim = check_int(latent_dim, "latent_dim")
        self.to_latent = layers.Dense(self.latent_dim, name="latent")

    def build(self, input_shape):
        if not self.encoder.built:
            self.encoder.build(input_shape)
        fused = self.encoder.compute_output_shape(dict(self.encoder.input_shapes))
        if not self.to_latent.built:
            self.to_latent.build(fused)
        for decoder in self.decoders.values():
            if not decoder.built:
                decoder.build((None, self.latent_dim))

    def encode(self, inputs, training=None):
        """The shared latent ``(batch, latent_dim)`` from any non-empty subset of the sources."""
        return self.to_latent(self.fused(inputs, training=training))

    def decode(self, latent, training=None):
        """Every target, as a dict, from latents ``(batch, latent_dim)``."""
        return {name: decoder(latent, training=training) for name, decoder in self.decoders.items()}

    def call(self, inputs, training=None):
        return self.decode(self.encode(inputs, training=training), training=training)

    def compute_output_shape(self, input_shape):
        batch = next(iter(input_shape.values()))[0]
        return {
            name: decoder.compute_output_shape((batch, self.latent_dim))
            for name, decoder in self.decoders.items()
        }

    def get_config(self):
        return {
            **super().get_config(),
            "encoders": serialize(self.encoders),
            "decoders": serialize(self.decoders),
            "fusion": serialize(self.fusion),
            "latent_dim": self.latent_dim,
            "modality_dropout": serialize(self.modality_dropout),
        }


def check_decoder_shapes(model, input_shapes):
    """Raise unless each decoder of ``model`` reproduces its modality's shape.

    A decoder's output must equal the input's shape, or add a last axis of
    class probabilities (token ids in, a distribution per position out).
    """
    batch = next(iter(input_shapes.values()))[0]
    for name, decoder in model.decoders.items():
        want = tuple(input_shapes[name])
        got = tuple(decoder.compute_output_shape((batch, model.latent_dim)))
        if got[1:] != want[1:] and got[1:-1] != want[1:]:
            raise ValueError(
                f"{model.name}: decoder for modality {name!r} produces shape {describe(got)} "
                f"but the modality has shape {describe(want)}"
            )
