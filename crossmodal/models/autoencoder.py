"""The multimodal autoencoder: encoders -> fusion -> shared latent -> one decoder per modality.

Taught in the chapter "The multimodal autoencoder" (after Ngiam et al., 2011).
"""

import keras
from keras import layers

from crossmodal import fusion as fusion_lib
from crossmodal.dropout import ModalityDropout
from crossmodal.validation import check_modalities

_serialize = keras.saving.serialize_keras_object
_deserialize = keras.saving.deserialize_keras_object


def _build(layer, shape):
    """Build ``layer`` unless it already is (deserialised layers arrive built)."""
    if not layer.built:
        layer.build(shape)


def _output_shape(layer, shape):
    """The output shape of ``layer`` on inputs of ``shape``, traced symbolically if need be."""
    return tuple(layer.compute_output_spec(keras.KerasTensor(shape)).shape)


@keras.saving.register_keras_serializable(package="crossmodal")
class MultimodalAutoencoder(keras.Model):
    """Encode any subset of modalities into one latent vector; decode every modality from it.

    ``inputs`` is a dict of modality name to batch. Each present modality goes
    through its encoder to ``(batch, dim_i)``; in training, ``modality_dropout``
    hides some encodings per example; the fusion layer joins them and a dense
    layer maps the result to the shared latent ``(batch, latent_dim)``; each
    decoder reconstructs its modality from the latent. ``call`` returns a dict
    with one reconstruction per decoder, so the model trains with
    ``compile(loss={...}, loss_weights={...})`` and ``fit``.

    A model is built with every modality (its first call, or ``input_shapes``);
    afterwards ``encode`` and ``call`` accept any non-empty subset (a missing
    modality is absent from the dict and handled by the fusion's rule:
    concatenation fills zeros).

    Args:
        encoders: dict of modality name to encoder layer (batch -> ``(batch, dim_i)``).
        decoders: dict of modality name to decoder layer (``(batch, latent_dim)`` ->
            the modality, or a distribution over its values along a last axis).
            Every decoder needs an encoder of the same name.
        fusion: a name in ``crossmodal.fusion.FUSIONS`` or a ``Fusion`` layer.
        latent_dim: size of the shared latent.
        modality_dropout: ``None``, a ``ModalityDropout`` layer, or a list of
            subsets (lists of modality names) presented with equal probability.
        input_shapes: optional dict of modality name to per-example shape, e.g.
            ``{"image": (32, 32, 3), "caption": (16,)}``: the model is built at
            once and each decoder's output is checked against its modality.

    Raises:
        ValueError: when the dicts are empty, a decoder or an input shape names a
            modality without an encoder, or a decoder's output shape does not
            match its modality's shape (a decoder's output must equal the input
            shape, or add a last axis of class probabilities for integer inputs).
    """

    def __init__(self, encoders, decoders, fusion="concat", latent_dim=32,
                 modality_dropout=None, input_shapes=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(encoders, dict) or not encoders:
            raise ValueError(f"{self.name}: encoders must be a non-empty dict; got {encoders!r}")
        if not isinstance(decoders, dict) or not decoders:
            raise ValueError(f"{self.name}: decoders must be a non-empty dict; got {decoders!r}")
        for name in sorted(decoders):
            if name not in encoders:
                raise ValueError(
                    f"{self.name}: decoder for modality {name!r} has no encoder; "
                    f"encoders: {sorted(encoders)}"
                )
        self.modalities = sorted(encoders)
        self.encoders = {name: encoders[name] for name in self.modalities}
        self.decoders = {name: decoders[name] for name in sorted(decoders)}
        self.fusion = fusion_lib.get(fusion)
        self.latent_dim = latent_dim
        if isinstance(modality_dropout, (list, tuple)):
            modality_dropout = ModalityDropout(modality_dropout)
        if modality_dropout is not None and not isinstance(modality_dropout, ModalityDropout):
            raise ValueError(
                f"{self.name}: modality_dropout must be None, a ModalityDropout layer or a "
                f"list of subsets; got {modality_dropout!r}"
            )
        self.modality_dropout = modality_dropout
        self.to_latent = layers.Dense(latent_dim, name="latent")
        self.input_shapes = None
        if input_shapes is not None:
            self.input_shapes = {name: tuple(shape) for name, shape in input_shapes.items()}
            self.build({name: (None, *shape) for name, shape in self.input_shapes.items()})

    def build(self, input_shape):
        if not isinstance(input_shape, dict) or not input_shape:
            raise ValueError(
                f"{self.name}: expected a dict of modality shapes; got {input_shape}"
            )
        unknown = sorted(set(input_shape) - set(self.modalities))
        if unknown:
            raise ValueError(
                f"{self.name}: unknown modality {unknown[0]!r}; this model knows "
                f"{self.modalities}"
            )
        missing = sorted(set(self.modalities) - set(input_shape))
        if missing:
            raise ValueError(
                f"{self.name}: the first call (or input_shapes) must hold every modality to "
                f"build the model; missing {missing}, got shapes {dict(input_shape)}"
            )
        codes = {}
        self.example_shapes = {}
        for name in self.modalities:
            shape = tuple(input_shape[name])
            self.example_shapes[name] = shape[1:]
            try:
                _build(self.encoders[name], shape)
            except ValueError as error:
                raise ValueError(f"{self.name}: modality {name!r}: {error}") from error
            codes[name] = _output_shape(self.encoders[name], shape)
        if self.modality_dropout is not None:
            _build(self.modality_dropout, codes)
        _build(self.fusion, codes)
        fused = self.fusion.compute_output_shape(codes)
        _build(self.to_latent, fused)
        latent = (None, self.latent_dim)
        for name, decoder in self.decoders.items():
            _build(decoder, latent)
            want = tuple(input_shape[name])[1:]
            got = _output_shape(decoder, latent)[1:]
            if got != want and got[:-1] != want:
                raise ValueError(
                    f"{self.name}: decoder for modality {name!r} produces shape (batch, "
                    f"{', '.join(map(str, got))}) but the modality has shape (batch, "
                    f"{', '.join(map(str, want))})"
                )

    def encode(self, inputs, training=False):
        """The shared latent ``(batch, latent_dim)`` from any non-empty subset of modalities."""
        inputs = check_modalities(inputs, self.modalities, owner=self.name)
        if not self.built:
            self.build({name: tuple(x.shape) for name, x in inputs.items()})
        for name, x in inputs.items():
            want = self.example_shapes[name]
            if len(x.shape) != len(want) + 1 or any(
                w is not None and g is not None and w != g for w, g in zip(want, x.shape[1:])
            ):
                raise ValueError(
                    f"{self.name}: modality {name!r} was built for shape (batch, "
                    f"{', '.join(map(str, want))}); got shape {tuple(x.shape)}"
                )
        codes = {name: self.encoders[name](x, training=training) for name, x in inputs.items()}
        if self.modality_dropout is not None:
            codes = self.modality_dropout(codes, training=training)
        return self.to_latent(self.fusion(codes))

    def decode(self, z, training=False):
        """Every decoded modality, as a dict, from latents ``(batch, latent_dim)``."""
        return {name: decoder(z, training=training) for name, decoder in self.decoders.items()}

    def call(self, inputs, training=None):
        return self.decode(self.encode(inputs, training=training), training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "encoders": {k: _serialize(v) for k, v in self.encoders.items()},
            "decoders": {k: _serialize(v) for k, v in self.decoders.items()},
            "fusion": _serialize(self.fusion),
            "latent_dim": self.latent_dim,
            "modality_dropout": None if self.modality_dropout is None
            else _serialize(self.modality_dropout),
            "input_shapes": None if self.input_shapes is None
            else {k: list(v) for k, v in self.input_shapes.items()},
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoders", "decoders"):
            config[key] = {k: _deserialize(v) for k, v in config[key].items()}
        config["fusion"] = _deserialize(config["fusion"])
        if config.get("modality_dropout") is not None:
            config["modality_dropout"] = _deserialize(config["modality_dropout"])
        return cls(**config)
