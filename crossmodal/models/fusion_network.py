"""The knowledge-fusion network: encoders -> fusion layer -> head.

Taught in the chapter "The knowledge-fusion network".
"""

import keras
from keras import ops

from crossmodal import fusion as fusion_layers
from crossmodal.validation import check_modalities

_serialize = keras.saving.serialize_keras_object
_deserialize = keras.saving.deserialize_keras_object


@keras.saving.register_keras_serializable(package="crossmodal")
class FusionNetwork(keras.Model):
    """Encode every modality, fuse the encodings, predict with one head.

    ``{"image": (batch, ...), "caption": (batch, ...)}`` -> ``{output_name:
    (batch, classes)}``. Each modality has its own encoder (any layer that
    maps its batch to ``(batch, dim_i)``); a ``Fusion`` layer merges the
    encodings and the head (e.g. ``VectorDecoder(classes, output_activation=
    "softmax")``) makes the prediction.

    With ``late=True`` there is no fusion layer: each modality gets its own
    copy of the head, and the prediction is the mean of the predictions of the
    modalities present (late fusion).

    The network is built with every modality (its first call, or ``build``
    with a dict of shapes); afterwards it accepts any non-empty subset, and a
    missing modality is handled by the fusion layer's documented rule. An
    optional ``ModalityDropout`` layer between encoders and fusion zeroes
    whole encodings during training so that the network learns to cope.

    Args:
        encoders: dict of modality name to encoder layer.
        fusion: a ``Fusion`` layer or a name in ``crossmodal.fusion.FUSIONS``
            (``None`` when ``late=True``).
        head: the layer that maps the fused vector to the prediction.
        late: average per-modality predictions instead of fusing encodings.
        modality_dropout: optional ``crossmodal.dropout.ModalityDropout``.
        output_name: key of the prediction in the output dict.
    """

    def __init__(self, encoders, fusion=None, head=None, late=False, modality_dropout=None,
                 output_name="label", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(encoders, dict) or not encoders:
            raise ValueError(f"encoders must be a non-empty dict of layers; got {encoders!r}")
        if head is None:
            raise ValueError("a head layer is required")
        if late and fusion is not None:
            raise ValueError("late fusion averages predictions: pass fusion=None with late=True")
        if not late and fusion is None:
            raise ValueError("give a fusion layer (or name), or set late=True")
        self.modalities = sorted(encoders)
        self.encoders = {name: encoders[name] for name in self.modalities}
        self.late = late
        self.output_name = output_name
        self.modality_dropout = modality_dropout
        if late:
            self.fusion = None
            self.head_config = _serialize(head)
            self.heads = {name: head.__class__.from_config(
                {**head.get_config(), "name": f"{head.name}_{name}"})
                for name in self.modalities}
        else:
            self.fusion = fusion_layers.get(fusion)
            self.head = head

    def build(self, input_shape):
        if not isinstance(input_shape, dict) or set(input_shape) != set(self.modalities):
            raise ValueError(
                f"{self.name}: build with every modality {self.modalities}; "
                f"got {input_shape}"
            )
        codes = {}
        for name in self.modalities:
            encoder = self.encoders[name]
            if not encoder.built:
                encoder.build(input_shape[name])
            codes[name] = tuple(encoder.compute_output_shape(input_shape[name]))
        if self.modality_dropout is not None and not self.modality_dropout.built:
            self.modality_dropout.build(codes)
        # layers restored from a config arrive built already
        if self.late:
            for name in self.modalities:
                if not self.heads[name].built:
                    self.heads[name].build(codes[name])
        else:
            if not self.fusion.built:
                self.fusion.build(codes)
            if not self.head.built:
                self.head.build(self.fusion.compute_output_shape(codes))

    def encode(self, inputs, training=None):
        """The encodings ``{name: (batch, dim_i)}`` of the modalities given."""
        inputs = check_modalities(inputs, self.modalities, owner=self.name)
        codes = {}
        for name, x in inputs.items():
            try:
                codes[name] = self.encoders[name](x, training=training)
            except ValueError as error:  # say which modality the encoder was reading
                raise ValueError(f"{self.name}: modality {name!r}: {error}") from error
        return codes

    def call(self, inputs, training=None):
        codes = self.encode(inputs, training=training)
        if self.modality_dropout is not None and training and len(codes) == len(self.modalities):
            codes = self.modality_dropout(codes, training=training)
        if self.late:
            predictions = [self.heads[name](code) for name, code in codes.items()]
            return {self.output_name: ops.mean(ops.stack(predictions, axis=0), axis=0)}
        return {self.output_name: self.head(self.fusion(codes))}

    def get_config(self):
        config = {
            **super().get_config(),
            "encoders": {name: _serialize(layer) for name, layer in self.encoders.items()},
            "fusion": None if self.late else _serialize(self.fusion),
            "head": self.head_config if self.late else _serialize(self.head),
            "late": self.late,
            "modality_dropout": (None if self.modality_dropout is None
                                 else _serialize(self.modality_dropout)),
            "output_name": self.output_name,
        }
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoders"] = {name: _deserialize(layer)
                              for name, layer in config["encoders"].items()}
        for key in ("fusion", "head", "modality_dropout"):
            if config.get(key) is not None:
                config[key] = _deserialize(config[key])
        return cls(**config)
