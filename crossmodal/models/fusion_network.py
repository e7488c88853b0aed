"""The knowledge-fusion network: ``MultimodalEncoder`` -> head.

Taught in the chapter "The knowledge-fusion network"; the reasoning chapter
builds its question-answering models the same way, with fusion layers that
read a feature map and a question.
"""

import keras
from keras import layers

from crossmodal.multimodal import EncoderModel, MultimodalEncoder
from crossmodal.serialization import Composite, serialize


@keras.saving.register_keras_serializable(package="crossmodal")
class FusionNetwork(EncoderModel, Composite, keras.Model):
    """Encode every modality, fuse the encodings, predict with one head.

    ``{"image": (batch, ...), "caption": (batch, ...)}`` -> ``{output_name:
    (batch, classes)}``. Each modality has its own encoder; a fusion layer
    merges the encodings and the head (e.g. ``VectorDecoder(classes,
    output_activation="softmax")``) makes the prediction. With
    ``fusion=LateFusion(head, rule)`` the fusion layer predicts itself and
    ``head`` stays ``None``.

    Built with every modality (its first call, or ``build`` with a dict of
    shapes), the network then accepts any non-empty subset; a missing modality
    is handled by the fusion layer's documented rule. An optional
    ``ModalityDropout`` hides modalities per example in training.

    Args:
        encoders: dict of modality name to encoder layer.
        fusion: a ``Fusion`` layer or a name in ``crossmodal.fusion.FUSIONS``.
        head: the layer that maps the fused vector to the prediction, or
            ``None`` when the fusion layer's output is the prediction.
        modality_dropout: ``None`` or a ``ModalityDropout`` layer.
        output_name: key of the prediction in the output dict.
    """

    NESTED = ("encoders", "fusion", "head", "modality_dropout")

    def __init__(
        self,
        encoders,
        fusion="concat",
        head=None,
        *,
        modality_dropout=None,
        output_name="label",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if head is not None and not isinstance(head, layers.Layer):
            raise TypeError(f"head must be a Keras layer or None; got {type(head).__name__}")
        if not isinstance(output_name, str) or not output_name:
            raise TypeError(f"output_name must be a non-empty string; got {output_name!r}")
        self.encoder = MultimodalEncoder(encoders, fusion, modality_dropout, name="encoder")
        self.head = head
        self.output_name = output_name

    def build(self, input_shape):
        if not self.encoder.built:
            self.encoder.build(input_shape)
        if self.head is not None and not self.head.built:
            self.head.build(self.encoder.compute_output_shape(dict(self.encoder.input_shapes)))

    def encode(self, inputs, training=None):
        """The fused vector ``(batch, dim)`` from any non-empty subset of the modalities."""
        return self.fused(inputs, training=training)

    def call(self, inputs, training=None):
        fused = self.encode(inputs, training=training)
        return {
            self.output_name: fused if self.head is None else self.head(fused, training=training)
        }

    def compute_output_shape(self, input_shape):
        fused = self.encoder.compute_output_shape(input_shape)
        return {
            self.output_name: fused if self.head is None else self.head.compute_output_shape(fused)
        }

    def get_config(self):
        return {
            **super().get_config(),
            "encoders": serialize(self.encoders),
            "fusion": serialize(self.fusion),
            "head": serialize(self.head),
            "modality_dropout": serialize(self.modality_dropout),
            "output_name": self.output_name,
        }
