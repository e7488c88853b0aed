"""Decoders and heads: a ``(batch, dim)`` vector -> one modality or a prediction.

The multimodal autoencoder and the cross-modal mapping chapters use them to
turn the shared representation back into data.
"""

import keras
from keras import layers, ops

from crossmodal.validation import check_rank


@keras.saving.register_keras_serializable(package="crossmodal")
class VectorDecoder(layers.Layer):
    """An MLP: ``(batch, dim)`` -> ``(batch, output_dim)``.

    With ``output_activation="softmax"`` it is a classifier head.

    Args:
        output_dim: width of the output.
        hidden: widths of the hidden ReLU layers.
        output_activation: activation of the output layer (``None``: linear).
    """

    EXPECTED = "latent vectors (batch, dim)"

    def __init__(self, output_dim, hidden=(64,), output_activation=None, **kwargs):
        super().__init__(**kwargs)
        self.output_dim = output_dim
        self.hidden = tuple(hidden)
        self.output_activation = output_activation
        self.dense = [layers.Dense(h, activation="relu", name=f"hidden{i}")
                      for i, h in enumerate(self.hidden)]
        self.out = layers.Dense(output_dim, activation=output_activation, name="out",
                                dtype="float32")

    def build(self, input_shape):
        check_rank(input_shape, 2, modality=self.name, expected=self.EXPECTED)
        width = input_shape[-1]
        for dense, h in zip(self.dense, self.hidden):
            dense.build((input_shape[0], width))
            width = h
        self.out.build((input_shape[0], width))

    def call(self, z):
        check_rank(z, 2, modality=self.name, expected=self.EXPECTED)
        z = ops.cast(z, self.compute_dtype)
        for dense in self.dense:
            z = dense(z)
        return self.out(z)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim)

    def get_config(self):
        return {**super().get_config(), "output_dim": self.output_dim,
                "hidden": list(self.hidden), "output_activation": self.output_activation}
