"""Encoders: one modality's batch in, a ``(batch, dim)`` vector out.

Each encoder is a registered Keras layer, so a model that holds it saves and
loads as ``.keras``. The chapter "Modalities and shared spaces" explains why
each modality gets an encoder suited to its structure.
"""

import keras
from keras import layers, ops

from crossmodal.validation import check_rank


def build_in_sequence(stack, input_shape):
    """Build layers that are applied one after another (an MLP); return the output shape."""
    shape = tuple(input_shape)
    for layer in stack:
        layer.build(shape)
        shape = layer.compute_output_shape(shape)
    return shape


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
        build_in_sequence([*self.dense, self.project], input_shape)

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


@keras.saving.register_keras_serializable(package="crossmodal")
class TransformerTokenEncoder(layers.Layer):
    """A Transformer encoder: ``(batch, length)`` token ids -> ``(batch, dim)``.

    Token plus learned positional embeddings, ``blocks`` pre-norm
    self-attention blocks (multi-head attention and a ReLU feed-forward
    layer, each with a residual connection), a mean over the non-padding
    positions and a dense projection. Id 0 is padding: it is masked out of
    the attention keys and of the mean, so extra padding never changes the
    encoding. Inputs may be shorter than ``sequence_length``. Taught in the
    chapter "The knowledge-fusion network".

    Args:
        vocabulary_size: number of token ids, padding and OOV included.
        dim: size of the output vector.
        sequence_length: longest input the positional table covers.
        heads: attention heads per block.
        embedding_dim: width of the tokens inside the blocks.
        blocks: number of self-attention blocks.
    """

    EXPECTED = "token ids (batch, length)"

    def __init__(self, vocabulary_size, dim, sequence_length, heads=2, embedding_dim=32,
                 blocks=1, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.dim = dim
        self.sequence_length = sequence_length
        self.heads = heads
        self.embedding_dim = embedding_dim
        self.blocks = blocks
        self.embed = layers.Embedding(vocabulary_size, embedding_dim, name="embed")
        self.position = layers.Embedding(sequence_length, embedding_dim, name="position")
        self.attention = [
            layers.MultiHeadAttention(heads, embedding_dim // heads, name=f"attention{i}")
            for i in range(blocks)
        ]
        self.feed_forward = [
            (layers.Dense(2 * embedding_dim, activation="relu", name=f"ff{i}_in"),
             layers.Dense(embedding_dim, name=f"ff{i}_out"))
            for i in range(blocks)
        ]
        self.norms = [(layers.LayerNormalization(name=f"norm{i}_a"),
                       layers.LayerNormalization(name=f"norm{i}_b")) for i in range(blocks)]
        self.project = layers.Dense(dim, name="project")

    def _check(self, shape):
        check_rank(shape, 2, modality=self.name, expected=self.EXPECTED)
        if shape[1] is not None and shape[1] > self.sequence_length:
            raise ValueError(
                f"{self.name!r}: expected at most {self.sequence_length} tokens; "
                f"got shape {tuple(shape)}"
            )

    def build(self, input_shape):
        self._check(tuple(input_shape))
        seq = (input_shape[0], input_shape[1], self.embedding_dim)
        self.embed.build(input_shape)
        self.position.build((input_shape[1],))
        for attention, (grow, shrink), (norm_a, norm_b) in zip(
                self.attention, self.feed_forward, self.norms):
            attention.build(seq, seq)
            norm_a.build(seq)
            norm_b.build(seq)
            grow.build(seq)
            shrink.build(seq[:2] + (2 * self.embedding_dim,))
        self.project.build((input_shape[0], self.embedding_dim))

    def call(self, tokens):
        self._check(tuple(tokens.shape))
        tokens = ops.cast(tokens, "int32")
        length = ops.shape(tokens)[1]
        mask = ops.not_equal(tokens, 0)  # (batch, length)
        x = self.embed(tokens) + self.position(ops.arange(length))[None]
        keys = mask[:, None, :] & ops.ones_like(mask)[:, :, None]  # (batch, query, key)
        for attention, (grow, shrink), (norm_a, norm_b) in zip(
                self.attention, self.feed_forward, self.norms):
            y = norm_a(x)
            x = x + attention(y, y, attention_mask=keys)
            x = x + shrink(grow(norm_b(x)))
        weights = ops.cast(mask, x.dtype)[..., None]
        pooled = ops.sum(x * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
        return self.project(pooled)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "dim": self.dim, "sequence_length": self.sequence_length, "heads": self.heads,
                "embedding_dim": self.embedding_dim, "blocks": self.blocks}


MEL_SETTINGS = {"fft_length": 256, "sequence_stride": 64, "num_mel_bins": 48}
"""Log-mel settings shared by the audio encoder and the plots: 32 ms windows
and an 8 ms hop at 8 kHz, 48 mel bins."""


def mel_spectrogram_layer(sample_rate=8000, bins=MEL_SETTINGS["num_mel_bins"], name=None):
    """A ``keras.layers.MelSpectrogram`` with the course's settings.

    Maps ``(batch, samples)`` waveforms to ``(batch, bins, frames)`` log-mel
    power (decibels), ``frames = 1 + samples // 64``.
    """
    settings = {**MEL_SETTINGS, "num_mel_bins": bins}
    return layers.MelSpectrogram(sampling_rate=sample_rate, max_freq=sample_rate / 2,
                                 name=name, **settings)


@keras.saving.register_keras_serializable(package="crossmodal")
class AudioEncoder(layers.Layer):
    """A spectrogram encoder: audio -> ``(batch, dim)``.

    With ``waveform=True`` it takes ``(batch, samples)`` waveforms and turns
    them into a log-mel spectrogram inside the layer (``MEL_SETTINGS``);
    with ``waveform=False`` it takes that spectrogram, ``(batch, bins,
    frames)``, computed once beforehand (cheaper when the same clips are
    seen many times). The decibels are scaled to about unit range, then a
    stack of 1-D convolutions over time (mel bins as channels), each with
    ReLU and 2x max pooling, a mean over time and a dense projection.
    Taught in the chapter "The knowledge-fusion network".

    Args:
        dim: size of the output vector.
        filters: filters of each 1-D convolution (kernel 5).
        waveform: whether inputs are waveforms (else log-mel spectrograms).
        sample_rate: sampling rate of the waveforms in Hz.
    """

    def __init__(self, dim, filters=(32, 32), waveform=True, sample_rate=8000, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.filters = tuple(filters)
        self.waveform = waveform
        self.sample_rate = sample_rate
        self.expected = ("waveforms (batch, samples)" if waveform
                         else "log-mel spectrograms (batch, bins, frames)")
        self.mel = mel_spectrogram_layer(sample_rate, name="mel") if waveform else None
        self.convs = [layers.Conv1D(f, 5, padding="same", activation="relu", name=f"conv{i}")
                      for i, f in enumerate(self.filters)]
        self.pool = layers.MaxPooling1D(2, padding="same")
        self.project = layers.Dense(dim, name="project")

    def build(self, input_shape):
        check_rank(input_shape, 2 if self.waveform else 3, modality=self.name,
                   expected=self.expected)
        bins = MEL_SETTINGS["num_mel_bins"] if self.waveform else input_shape[1]
        width = bins
        for conv in self.convs:
            conv.build((input_shape[0], None, width))
            width = conv.filters
        self.project.build((input_shape[0], width))

    def call(self, audio):
        check_rank(audio, 2 if self.waveform else 3, modality=self.name,
                   expected=self.expected)
        x = ops.cast(audio, "float32")
        if self.waveform:
            x = self.mel(x)
        x = ops.transpose(x, (0, 2, 1)) / 40.0  # (batch, frames, bins), decibels / 40
        x = ops.cast(x, self.compute_dtype)
        for conv in self.convs:
            x = self.pool(conv(x))
        return self.project(ops.mean(x, axis=1))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "filters": list(self.filters),
                "waveform": self.waveform, "sample_rate": self.sample_rate}
