"""Encoders: one modality's batch in, a ``(batch, dim)`` vector out.

Each encoder is a registered Keras layer, so a model that holds it saves and
loads as ``.keras``. The chapter "Modalities and shared spaces" explains why
each modality gets an encoder suited to its structure.
"""

import keras
from keras import layers, ops

from crossmodal.validation import check_rank


@keras.saving.register_keras_serializable(package="crossmodal")
class ImageEncoder(layers.Layer):
    """A small CNN: ``(batch, height, width, channels)`` floats -> ``(batch, dim)``.

    Blocks of 3x3 convolution, ReLU and 2x2 max pooling (pooling rather than
    strides: it learns shape faster on small images), then a dense projection.

    Args:
        dim: size of the output vector.
        filters: filters of each convolution block.
        activation: activation of the output (``None`` for a linear code).
    """

    EXPECTED = "images (batch, height, width, channels)"

    def __init__(self, dim, filters=(16, 32), activation=None, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.filters = tuple(filters)
        self.activation = activation
        self.blocks = [
            layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv{i}")
            for i, f in enumerate(self.filters)
        ]
        self.pool = layers.MaxPooling2D(2)
        self.flatten = layers.Flatten()
        self.project = layers.Dense(dim, activation=activation, name="project")

    def build(self, input_shape):
        check_rank(input_shape, 4, modality=self.name, expected=self.EXPECTED)
        shape = tuple(input_shape)
        for conv in self.blocks:
            conv.build(shape)
            shape = self.pool.compute_output_shape(conv.compute_output_shape(shape))
        self.project.build((shape[0], shape[1] * shape[2] * shape[3]))

    def call(self, images):
        check_rank(images, 4, modality=self.name, expected=self.EXPECTED)
        x = ops.cast(images, self.compute_dtype)
        for conv in self.blocks:
            x = self.pool(conv(x))
        return self.project(self.flatten(x))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "filters": list(self.filters),
                "activation": self.activation}


@keras.saving.register_keras_serializable(package="crossmodal")
class TokenEncoder(layers.Layer):
    """A recurrent encoder: ``(batch, length)`` token ids -> ``(batch, dim)``.

    Embeds the ids (id 0 is padding and is masked), reads them with a GRU or
    an LSTM, and projects the last state to ``dim``.

    Args:
        vocabulary_size: number of token ids, padding and OOV included.
        dim: size of the output vector.
        embedding_dim: size of each token's embedding.
        units: recurrent state size.
        cell: ``"gru"`` or ``"lstm"``.
    """

    EXPECTED = "token ids (batch, length)"

    def __init__(self, vocabulary_size, dim, embedding_dim=32, units=64, cell="gru",
                 **kwargs):
        super().__init__(**kwargs)
        if cell not in ("gru", "lstm"):
            raise ValueError(f"cell must be 'gru' or 'lstm'; got {cell!r}")
        self.vocabulary_size = vocabulary_size
        self.dim = dim
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.embed = layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True,
                                      name="embed")
        rnn = layers.GRU if cell == "gru" else layers.LSTM
        self.rnn = rnn(units, name=cell)
        self.project = layers.Dense(dim, name="project")

    def build(self, input_shape):
        check_rank(input_shape, 2, modality=self.name, expected=self.EXPECTED)
        self.embed.build(input_shape)
        self.rnn.build((input_shape[0], input_shape[1], self.embedding_dim))
        self.project.build((input_shape[0], self.units))

    def call(self, tokens):
        check_rank(tokens, 2, modality=self.name, expected=self.EXPECTED)
        tokens = ops.cast(tokens, "int32")
        mask = ops.not_equal(tokens, 0)
        return self.project(self.rnn(self.embed(tokens), mask=mask))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "dim": self.dim, "embedding_dim": self.embedding_dim, "units": self.units,
                "cell": self.cell}


@keras.saving.register_keras_serializable(package="crossmodal")
class VectorEncoder(layers.Layer):
    """An MLP: ``(batch, features)`` -> ``(batch, dim)``.

    Args:
        dim: size of the output vector.
        hidden: widths of the hidden ReLU layers.
        dropout: dropout rate after each hidden layer (training only).
        activation: activation of the output (``None`` for a linear code).
    """

    EXPECTED = "vectors (batch, features)"

    def __init__(self, dim, hidden=(64,), dropout=0.0, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.hidden = tuple(hidden)
        self.dropout = dropout
        self.activation = activation
        self.dense = [layers.Dense(h, activation="relu", name=f"hidden{i}")
                      for i, h in enumerate(self.hidden)]
        self.drop = layers.Dropout(dropout)
        self.project = layers.Dense(dim, activation=activation, name="project")

    def build(self, input_shape):
        check_rank(input_shape, 2, modality=self.name, expected=self.EXPECTED)
        width = input_shape[-1]
        for dense, h in zip(self.dense, self.hidden):
            dense.build((input_shape[0], width))
            width = h
        self.project.build((input_shape[0], width))

    def call(self, x, training=None):
        check_rank(x, 2, modality=self.name, expected=self.EXPECTED)
        x = ops.cast(x, self.compute_dtype)
        for dense in self.dense:
            x = self.drop(dense(x), training=training)
        return self.project(x)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "hidden": list(self.hidden),
                "dropout": self.dropout, "activation": self.activation}
