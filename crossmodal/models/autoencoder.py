"""The multimodal autoencoder: encoders -> fusion -> shared latent -> one decoder per modality.

A ``CrossModalMapper`` whose targets are its own inputs. Taught in the
chapter "The multimodal autoencoder" (after Ngiam et al., 2011).
"""

import keras

from crossmodal.models.mapping import CrossModalMapper, check_decoder_shapes


@keras.saving.register_keras_serializable(package="crossmodal")
class MultimodalAutoencoder(CrossModalMapper):
    """Encode any subset of modalities into one latent vector; decode every modality from it.

    ``inputs`` is a dict of modality name to batch. Each present modality goes
    through its encoder; in training, ``modality_dropout`` hides some of them
    per example; the fusion layer joins the codes and a dense layer maps the
    result to the shared latent ``(batch, latent_dim)``; each decoder
    reconstructs its modality from the latent. ``call`` returns a dict with one
    reconstruction per decoder, so the model trains with
    ``compile(loss={...}, loss_weights={...})`` and ``fit(data, data)``.

    Built with every modality (its first call, or ``input_shapes``), the model
    then accepts any non-empty subset; a missing modality is handled by the
    fusion layer's rule (concatenation fills zeros).

    Args:
        encoders: dict of modality name to encoder layer.
        decoders: dict of modality name to decoder layer; every decoder needs
            an encoder of the same name.
        fusion, latent_dim, modality_dropout: as in ``CrossModalMapper``.
        input_shapes: optional dict of modality name to per-example shape, e.g.
            ``{"image": (32, 32, 3), "caption": (16,)}``: the model is built at
            once and each decoder's output is checked against its modality.

    Raises:
        ValueError: when a decoder names a modality without an encoder, or a
            decoder's output shape does not match its modality's shape (it must
            equal the input's shape, or add a last axis of class probabilities).
    """

    def __init__(
        self,
        encoders,
        decoders,
        *,
        fusion="concat",
        latent_dim=32,
        modality_dropout=None,
        input_shapes=None,
        **kwargs,
    ):
        super().__init__(
            encoders,
            decoders,
            fusion=fusion,
            latent_dim=latent_dim,
            modality_dropout=modality_dropout,
            **kwargs,
        )
        for name in self.decoders:
            if name not in self.modalities:
                raise ValueError(
                    f"{self.name}: decoder for modality {name!r} has no encoder; "
                    f"encoders: {self.modalities}"
                )
        self.input_shapes = None
        if input_shapes is not None:
            self.input_shapes = {name: tuple(shape) for name, shape in input_shapes.items()}
            self.build({name: (None, *shape) for name, shape in self.input_shapes.items()})

    def build(self, input_shape):
        super().build(input_shape)
        check_decoder_shapes(self, self.encoder.input_shapes)

    def get_config(self):
        return {
            **super().get_config(),
            "input_shapes": None
            if self.input_shapes is None
            else {k: list(v) for k, v in self.input_shapes.items()},
        }
