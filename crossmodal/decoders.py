"""Decoders and heads: a ``(batch, dim)`` vector -> one modality or a prediction.

The multimodal autoencoder and the cross-modal mapping chapters use them to
turn the shared representation back into data. Every decoder's output is
float32, also under a mixed-precision policy (Keras infers output shapes
and dtypes by tracing ``call``).
"""

import keras
from keras import layers, ops

from crossmodal.encoders import build_in_sequence
from crossmodal.validation import check_rank


@keras.saving.register_keras_serializable(package="crossmodal")
class VectorDecoder(layers.Layer):
    """An MLP: ``(batch, dim)`` -> ``(batch, output_dim)``.

    With ``output_activation="softmax"`` it is a classifier head.

    Args:
        output_dim: width of the output.
        hidden: widths of the hidden ReLU layers.
        output_activation: activation of the output layer (``None``: linear).

    The output layer computes in float32 even under a mixed-precision policy,
    so losses and softmax probabilities keep their precision.
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
        build_in_sequence([*self.dense, self.out], input_shape)

    def call(self, z):
        check_rank(z, 2, modality=self.name, expected=self.EXPECTED)
        z = ops.cast(z, self.compute_dtype)
        for dense in self.dense:
            z = dense(z)
        return self.out(z)

    def get_config(self):
        return {**super().get_config(), "output_dim": self.output_dim,
                "hidden": list(self.hidden), "output_activation": self.output_activation}


@keras.saving.register_keras_serializable(package="crossmodal")
class ImageDecoder(layers.Layer):
    """Transposed convolutions: ``(batch, dim)`` -> ``(batch, *output_shape)`` images.

    A dense layer makes a small feature map of ``output_shape`` divided by
    ``2 ** len(filters)``; each transposed convolution (stride 2, ReLU)
    doubles its side, and a 3x3 convolution with a **linear** output gives
    the channels. Linear, not sigmoid: with a sigmoid and a mean squared
    error, a small model trained briefly settles on a blank image. The
    decoder mirrors ``ImageEncoder``; the chapter "The multimodal
    autoencoder" uses it.

    Args:
        output_shape: ``(height, width, channels)`` of the images to produce;
            height and width must be divisible by ``2 ** len(filters)``.
        filters: filters of each upsampling block, coarsest first.

    Raises:
        ValueError: if ``output_shape`` cannot be reached from a whole-pixel
            starting map.
    """

    EXPECTED = "latent vectors (batch, dim)"

    def __init__(self, output_shape=(32, 32, 3), filters=(32, 16), **kwargs):
        super().__init__(**kwargs)
        output_shape = tuple(int(s) for s in output_shape)
        filters = tuple(filters)
        if len(output_shape) != 3 or min(output_shape) < 1 or not filters:
            raise ValueError(
                f"ImageDecoder: output_shape must be (height, width, channels) and filters "
                f"non-empty; got output_shape={output_shape}, filters={filters}"
            )
        scale = 2 ** len(filters)
        if output_shape[0] % scale or output_shape[1] % scale:
            raise ValueError(
                f"ImageDecoder: {len(filters)} upsampling blocks multiply the side by {scale}, "
                f"so height and width must be multiples of {scale}; got output_shape={output_shape}"
            )
        self.image_shape = output_shape
        self.filters = filters
        self.start = (output_shape[0] // scale, output_shape[1] // scale, filters[0])
        self.dense = layers.Dense(self.start[0] * self.start[1] * self.start[2], activation="relu",
                                  name="dense")
        self.reshape = layers.Reshape(self.start)
        self.blocks = [
            layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu",
                                   name=f"up{i}")
            for i, f in enumerate(filters)
        ]
        self.out = layers.Conv2D(output_shape[2], 3, padding="same", name="out", dtype="float32")

    def build(self, input_shape):
        check_rank(input_shape, 2, modality=self.name, expected=self.EXPECTED)
        self.dense.build(input_shape)
        shape = (input_shape[0], *self.start)
        for block in self.blocks:
            block.build(shape)
            shape = block.compute_output_shape(shape)
        self.out.build(shape)

    def call(self, z):
        check_rank(z, 2, modality=self.name, expected=self.EXPECTED)
        x = self.reshape(self.dense(ops.cast(z, self.compute_dtype)))
        for block in self.blocks:
            x = block(x)
        return self.out(x)

    def get_config(self):
        return {**super().get_config(), "output_shape": list(self.image_shape),
                "filters": list(self.filters)}


@keras.saving.register_keras_serializable(package="crossmodal")
class TokenDecoder(layers.Layer):
    """A sentence decoder: ``(batch, dim)`` -> ``(batch, sequence_length, vocabulary_size)``.

    A ``VectorDecoder`` (an MLP with a float32 output) predicts, for every
    position of the sentence at once, a softmax over the vocabulary (padding
    id 0 included, so the length is predicted too). Train it with sparse categorical cross-entropy against the token
    ids ``(batch, sequence_length)``; the arg-max at each position reads the
    sentence back. Unlike a bag of words, which only says which words occur,
    this keeps word order, so the output can be turned back into a caption.
    Positions are predicted independently (no autoregression): enough for
    short templated captions, and one pass with no Python loop. The chapter
    "The multimodal autoencoder" uses it.

    Args:
        vocabulary_size: number of token ids, padding and OOV included.
        sequence_length: tokens per sentence.
        hidden: widths of the hidden ReLU layers.
    """

    EXPECTED = "latent vectors (batch, dim)"

    def __init__(self, vocabulary_size, sequence_length, hidden=(128,), **kwargs):
        super().__init__(**kwargs)
        if vocabulary_size < 2 or sequence_length < 1:
            raise ValueError(
                f"TokenDecoder: need vocabulary_size >= 2 and sequence_length >= 1; got "
                f"vocabulary_size={vocabulary_size}, sequence_length={sequence_length}"
            )
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.hidden = tuple(hidden)
        self.logits = VectorDecoder(sequence_length * vocabulary_size, hidden, name="logits")

    def build(self, input_shape):
        check_rank(input_shape, 2, modality=self.name, expected=self.EXPECTED)
        self.logits.build(input_shape)

    def call(self, z):
        check_rank(z, 2, modality=self.name, expected=self.EXPECTED)
        logits = ops.reshape(self.logits(z), (-1, self.sequence_length, self.vocabulary_size))
        return ops.softmax(logits, axis=-1)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length, "hidden": list(self.hidden)}
