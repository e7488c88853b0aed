"""Decoders and heads: a ``(batch, dim)`` vector -> one modality or a prediction.

The multimodal autoencoder and the cross-modal mapping chapters use them to
turn the shared representation back into data; the fusion and reasoning
chapters use ``VectorDecoder`` as a classification head. Every decoder's
output is float32, also under a mixed-precision policy.
"""

import keras
from keras import layers, ops

from crossmodal.blocks import build_in_sequence, dense_stack
from crossmodal.validation import check_int, check_ints, check_rank

LATENTS = "latent vectors (batch, dim)"


class _Float32Output:
    """Symbolic outputs are float32 too: with ``compute_output_shape`` defined, Keras would
    otherwise give them the layer's compute dtype (float16 under mixed precision)."""

    def compute_output_spec(self, z):
        return keras.KerasTensor(self.compute_output_shape(tuple(z.shape)), dtype="float32")


@keras.saving.register_keras_serializable(package="crossmodal")
class VectorDecoder(_Float32Output, layers.Layer):
    """An MLP: ``(batch, features)`` -> ``(batch, dim)``.

    With ``output_activation="softmax"`` it is a classifier head. The output
    layer computes in float32 even under a mixed-precision policy, so losses
    and softmax probabilities keep their precision.

    Args:
        dim: width of the output.
        hidden: widths of the hidden ReLU layers.
        output_activation: activation of the output layer (``None``: linear).
    """

    def __init__(self, dim, hidden=(64,), output_activation=None, **kwargs):
        super().__init__(**kwargs)
        self.dim = check_int(dim, "dim")
        self.hidden = check_ints(hidden, "hidden")
        self.output_activation = keras.activations.get(output_activation)
        self.dense = dense_stack(self.hidden)
        self.out = layers.Dense(
            self.dim, activation=self.output_activation, name="out", dtype="float32"
        )

    def build(self, input_shape):
        check_rank(input_shape, 2, what=self.name, expected=LATENTS)
        build_in_sequence([*self.dense, self.out], input_shape)

    def call(self, z):
        check_rank(z, 2, what=self.name, expected=LATENTS)
        z = ops.cast(z, self.compute_dtype)
        for dense in self.dense:
            z = dense(z)
        return self.out(z)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {
            **super().get_config(),
            "dim": self.dim,
            "hidden": list(self.hidden),
            "output_activation": keras.activations.serialize(self.output_activation),
        }


@keras.saving.register_keras_serializable(package="crossmodal")
class ImageDecoder(_Float32Output, layers.Layer):
    """Transposed convolutions: ``(batch, dim)`` -> ``(batch, *image_shape)`` images.

    A dense layer makes a small feature map of ``image_shape`` divided by
    ``2 ** len(filters)``; each transposed convolution (stride 2, ReLU)
    doubles its side, and a 3x3 convolution with a **linear** output gives
    the channels. Linear, not sigmoid: with a sigmoid and a mean squared
    error, a small model trained briefly settles on a blank image. The
    decoder mirrors ``ImageEncoder``; the chapter "The multimodal
    autoencoder" uses it.

    Args:
        image_shape: ``(height, width, channels)`` of the images to produce;
            height and width must be divisible by ``2 ** len(filters)``.
        filters: filters of each upsampling block, coarsest first.

    Raises:
        ValueError: if ``image_shape`` cannot be reached from a whole-pixel
            starting map.
    """

    def __init__(self, image_shape=(32, 32, 3), filters=(32, 16), **kwargs):
        super().__init__(**kwargs)
        self.image_shape = check_ints(image_shape, "image_shape")
        self.filters = check_ints(filters, "filters")
        if len(self.image_shape) != 3 or not self.filters:
            raise ValueError(
                f"ImageDecoder: image_shape must be (height, width, channels) and filters "
                f"non-empty; got image_shape={self.image_shape}, filters={self.filters}"
            )
        scale = 2 ** len(self.filters)
        if self.image_shape[0] % scale or self.image_shape[1] % scale:
            raise ValueError(
                f"ImageDecoder: {len(self.filters)} upsampling blocks multiply the side by "
                f"{scale}, so height and width must be multiples of {scale}; got "
                f"image_shape={self.image_shape}"
            )
        self.start = (self.image_shape[0] // scale, self.image_shape[1] // scale, self.filters[0])
        self.dense = layers.Dense(
            self.start[0] * self.start[1] * self.start[2], activation="relu", name="dense"
        )
        self.reshape = layers.Reshape(self.start)
        self.blocks = [
            layers.Conv2DTranspose(
                f, 3, strides=2, padding="same", activation="relu", name=f"up{i}"
            )
            for i, f in enumerate(self.filters)
        ]
        self.out = layers.Conv2D(
            self.image_shape[2], 3, padding="same", name="out", dtype="float32"
        )

    def build(self, input_shape):
        check_rank(input_shape, 2, what=self.name, expected=LATENTS)
        self.dense.build(input_shape)
        shape = (input_shape[0], *self.start)
        for block in self.blocks:
            block.build(shape)
            shape = block.compute_output_shape(shape)
        self.out.build(shape)

    def call(self, z):
        check_rank(z, 2, what=self.name, expected=LATENTS)
        x = self.reshape(self.dense(ops.cast(z, self.compute_dtype)))
        for block in self.blocks:
            x = block(x)
        return self.out(x)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.image_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": list(self.image_shape),
            "filters": list(self.filters),
        }


@keras.saving.register_keras_serializable(package="crossmodal")
class TokenDecoder(_Float32Output, layers.Layer):
    """A sentence decoder: ``(batch, dim)`` -> ``(batch, sequence_length, vocabulary_size)``.

    A ``VectorDecoder`` (an MLP with a float32 output) predicts, for every
    position of the sentence at once, a softmax over the vocabulary (padding
    id 0 included, so the length is predicted too). Train it with sparse
    categorical cross-entropy against the token ids ``(batch,
    sequence_length)``; the arg-max at each position reads the sentence back.
    Unlike a bag of words, which only says which words occur, this keeps word
    order, so the output can be turned back into a caption. Positions are
    predicted independently (no autoregression): enough for short templated
    captions, and one pass with no Python loop. The chapter "The multimodal
    autoencoder" uses it.

    Args:
        vocabulary_size: number of token ids, padding and OOV included.
        sequence_length: tokens per sentence.
        hidden: widths of the hidden ReLU layers.
    """

    def __init__(self, vocabulary_size, sequence_length, hidden=(128,), **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = check_int(vocabulary_size, "vocabulary_size", minimum=2)
        self.sequence_length = check_int(sequence_length, "sequence_length")
        self.hidden = check_ints(hidden, "hidden")
        self.logits = VectorDecoder(
            self.sequence_length * self.vocabulary_size, self.hidden, name="logits"
        )

    def build(self, input_shape):
        check_rank(input_shape, 2, what=self.name, expected=LATENTS)
        self.logits.build(input_shape)

    def call(self, z):
        check_rank(z, 2, what=self.name, expected=LATENTS)
        logits = ops.reshape(self.logits(z), (-1, self.sequence_length, self.vocabulary_size))
        return ops.softmax(logits, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.sequence_length, self.vocabulary_size)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "sequence_length": self.sequence_length,
            "hidden": list(self.hidden),
        }
