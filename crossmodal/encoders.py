"""Encoders: one modality's batch in, a ``(batch, dim)`` vector (or a feature map) out.

Each encoder is a registered Keras layer, so a model that holds it saves and
loads as ``.keras``. The chapter "Modalities and shared spaces" explains why
each modality gets an encoder suited to its structure; ``SpatialImageEncoder``,
which keeps the image's layout, serves the chapter "Cross-modal reasoning".
"""

import keras
from keras import layers, ops

from crossmodal.blocks import add_coordinates, build_in_sequence, dense_stack
from crossmodal.datasets.shapes import SAMPLING_RATE
from crossmodal.validation import (
    check_choice,
    check_int,
    check_ints,
    check_number,
    check_rank,
    check_token_ids,
    dtype_name,
)

IMAGES = "images (batch, height, width, channels)"
TOKENS = "token ids (batch, length)"


def _check_numeric(x, what):
    dtype = dtype_name(x)
    if not dtype.startswith(("float", "bfloat", "int", "uint")):
        raise TypeError(f"{what!r}: expected numbers; got dtype {dtype}")


@keras.saving.register_keras_serializable(package="crossmodal")
class ImageEncoder(layers.Layer):
    """A small CNN: ``(batch, height, width, channels)`` -> ``(batch, dim)``.

    Blocks of 3x3 convolution, ReLU and 2x2 max pooling (pooling rather than
    strides: it learns shape faster on small images), then a dense projection.
    The image size must be known when the encoder is built.

    Args:
        dim: size of the output vector.
        filters: filters of each convolution block.
        activation: activation of the output (``None`` for a linear code).
    """

    def __init__(self, dim, filters=(16, 32), activation=None, **kwargs):
        super().__init__(**kwargs)
        self.dim = check_int(dim, "dim")
        self.filters = check_ints(filters, "filters")
        self.activation = keras.activations.get(activation)
        self.convs = [
            layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv{i}")
            for i, f in enumerate(self.filters)
        ]
        self.pool = layers.MaxPooling2D(2)
        self.flatten = layers.Flatten()
        self.project = layers.Dense(self.dim, activation=self.activation, name="project")

    def build(self, input_shape):
        check_rank(input_shape, 4, what=self.name, expected=IMAGES)
        if None in tuple(input_shape)[1:]:
            raise ValueError(
                f"{self.name!r}: the image size must be known to build the dense "
                f"projection; got shape {tuple(input_shape)}"
            )
        shape = tuple(input_shape)
        for conv in self.convs:
            conv.build(shape)
            shape = self.pool.compute_output_shape(conv.compute_output_shape(shape))
        self.project.build((shape[0], shape[1] * shape[2] * shape[3]))

    def check_inputs(self, images):
        check_rank(images, 4, what=self.name, expected=IMAGES)
        _check_numeric(images, self.name)

    def call(self, images):
        self.check_inputs(images)
        x = ops.cast(images, self.compute_dtype)
        for conv in self.convs:
            x = self.pool(conv(x))
        return self.project(self.flatten(x))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {
            **super().get_config(),
            "dim": self.dim,
            "filters": list(self.filters),
            "activation": keras.activations.serialize(self.activation),
        }


@keras.saving.register_keras_serializable(package="crossmodal")
class SpatialImageEncoder(layers.Layer):
    """A CNN that keeps the layout: ``(batch, height, width, channels)`` -> a feature map.

    Blocks of 3x3 convolution, batch normalisation, ReLU and 2x2 pooling (the
    maximum after the first block, which keeps a corner or an edge seen at
    full resolution, the average after later ones, which keeps amounts);
    ``(batch, height / 2^k, width / 2^k, filters[-1] (+ 2))`` after ``k =
    len(filters)`` blocks. With ``coordinates=True`` every block also reads
    two channels holding each cell's x and y position, and the output carries
    them too, so that later layers can compare positions. With ``filters=()``
    the encoder passes the image on (with its coordinates). The reasoning
    models put their fusion layers on this map. Taught in the chapter
    "Cross-modal reasoning".

    Args:
        filters: filters of each block.
        coordinates: add coordinate channels to every block's input and to the output.
    """

    def __init__(self, filters=(16, 16), coordinates=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_ints(filters, "filters")
        self.coordinates = bool(coordinates)
        self.convs = [
            layers.Conv2D(f, 3, padding="same", name=f"conv{i}") for i, f in enumerate(self.filters)
        ]
        self.norms = [layers.BatchNormalization(name=f"norm{i}") for i in range(len(self.filters))]
        self.pools = [
            layers.MaxPooling2D(2) if i == 0 else layers.AveragePooling2D(2)
            for i in range(len(self.filters))
        ]

    def _with_coordinates(self, x):
        return add_coordinates(x) if self.coordinates else x

    def build(self, input_shape):
        check_rank(input_shape, 4, what=self.name, expected=IMAGES)
        shape = tuple(input_shape)
        extra = 2 if self.coordinates else 0
        for conv, norm, pool in zip(self.convs, self.norms, self.pools):
            conv.build((*shape[:3], shape[3] + extra))
            shape = conv.compute_output_shape((*shape[:3], shape[3] + extra))
            norm.build(shape)
            shape = pool.compute_output_shape(shape)

    def check_inputs(self, images):
        check_rank(images, 4, what=self.name, expected=IMAGES)
        _check_numeric(images, self.name)

    def call(self, images, training=None):
        self.check_inputs(images)
        x = ops.cast(images, self.compute_dtype)
        for conv, norm, pool in zip(self.convs, self.norms, self.pools):
            x = pool(ops.relu(norm(conv(self._with_coordinates(x)), training=training)))
        return self._with_coordinates(x)

    def compute_output_shape(self, input_shape):
        shrink = 2 ** len(self.filters)
        side = [None if s is None else s // shrink for s in input_shape[1:3]]
        channels = self.filters[-1] if self.filters else input_shape[3]
        return (input_shape[0], *side, channels + (2 if self.coordinates else 0))

    def get_config(self):
        return {
            **super().get_config(),
            "filters": list(self.filters),
            "coordinates": self.coordinates,
        }


class _TokenInputs:
    """Checks shared by the token encoders: integer ids within the vocabulary."""

    def check_inputs(self, tokens):
        check_rank(tokens, 2, what=self.name, expected=TOKENS)
        check_token_ids(tokens, self.name, self.vocabulary_size)


@keras.saving.register_keras_serializable(package="crossmodal")
class TokenEncoder(_TokenInputs, layers.Layer):
    """A recurrent encoder: ``(batch, length)`` token ids -> ``(batch, dim)``.

    Embeds the ids, reads them with a GRU or an LSTM that skips the padding
    (id 0: the state is carried unchanged over padded steps), and projects the
    last state to ``dim``.

    Args:
        vocabulary_size: number of token ids, padding and OOV included.
        dim: size of the output vector.
        embedding_dim: width of each token's embedding.
        units: recurrent state size.
        cell: ``"gru"`` or ``"lstm"``.
    """

    def __init__(self, vocabulary_size, dim, embedding_dim=32, units=64, cell="gru", **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = check_int(vocabulary_size, "vocabulary_size", minimum=2)
        self.dim = check_int(dim, "dim")
        self.embedding_dim = check_int(embedding_dim, "embedding_dim")
        self.units = check_int(units, "units")
        self.cell = check_choice(cell, "cell", ("gru", "lstm"))
        self.embed = layers.Embedding(self.vocabulary_size, self.embedding_dim, name="embed")
        self.rnn = (layers.GRU if cell == "gru" else layers.LSTM)(self.units, name=cell)
        self.project = layers.Dense(self.dim, name="project")

    def build(self, input_shape):
        check_rank(input_shape, 2, what=self.name, expected=TOKENS)
        self.embed.build(input_shape)
        self.rnn.build((input_shape[0], input_shape[1], self.embedding_dim))
        self.project.build((input_shape[0], self.units))

    def call(self, tokens):
        self.check_inputs(tokens)
        tokens = ops.cast(tokens, "int32")
        return self.project(self.rnn(self.embed(tokens), mask=ops.not_equal(tokens, 0)))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "dim": self.dim,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "cell": self.cell,
        }


@keras.saving.register_keras_serializable(package="crossmodal")
class VectorEncoder(layers.Layer):
    """An MLP: ``(batch, features)`` -> ``(batch, dim)``.

    Args:
        dim: size of the output vector.
        hidden: widths of the hidden ReLU layers.
        dropout: dropout rate after each hidden layer (training only), in ``[0, 1)``.
        activation: activation of the output (``None`` for a linear code).
        seed: seed of the dropout's random draws.
    """

    EXPECTED = "vectors (batch, features)"

    def __init__(self, dim, hidden=(64,), dropout=0.0, activation=None, *, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.dim = check_int(dim, "dim")
        self.hidden = check_ints(hidden, "hidden")
        self.dropout = check_number(dropout, "dropout", at_least=0.0, below=1.0)
        self.activation = keras.activations.get(activation)
        self.seed = None if seed is None else check_int(seed, "seed", minimum=0)
        self.dense = dense_stack(self.hidden)
        self.drop = layers.Dropout(self.dropout, seed=self.seed)
        self.project = layers.Dense(self.dim, activation=self.activation, name="project")

    def build(self, input_shape):
        check_rank(input_shape, 2, what=self.name, expected=self.EXPECTED)
        build_in_sequence([*self.dense, self.project], input_shape)

    def check_inputs(self, x):
        check_rank(x, 2, what=self.name, expected=self.EXPECTED)
        _check_numeric(x, self.name)

    def call(self, x, training=None):
        self.check_inputs(x)
        x = ops.cast(x, self.compute_dtype)
        for dense in self.dense:
            x = self.drop(dense(x), training=training)
        return self.project(x)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {
            **super().get_config(),
            "dim": self.dim,
            "hidden": list(self.hidden),
            "dropout": self.dropout,
            "activation": keras.activations.serialize(self.activation),
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="crossmodal")
class TransformerTokenEncoder(_TokenInputs, layers.Layer):
    """A Transformer encoder: ``(batch, length)`` token ids -> ``(batch, dim)``.

    Token plus learned positional embeddings, ``num_layers`` pre-norm
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
        num_heads: attention heads per block (must divide ``embedding_dim``).
        embedding_dim: width of the tokens inside the blocks.
        num_layers: number of self-attention blocks.
    """

    def __init__(
        self,
        vocabulary_size,
        dim,
        sequence_length,
        num_heads=2,
        embedding_dim=32,
        num_layers=1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = check_int(vocabulary_size, "vocabulary_size", minimum=2)
        self.dim = check_int(dim, "dim")
        self.sequence_length = check_int(sequence_length, "sequence_length")
        self.num_heads = check_int(num_heads, "num_heads")
        self.embedding_dim = check_int(embedding_dim, "embedding_dim")
        self.num_layers = check_int(num_layers, "num_layers")
        if self.embedding_dim % self.num_heads:
            raise ValueError(
                f"num_heads must divide embedding_dim; got "
                f"embedding_dim={embedding_dim}, num_heads={num_heads}"
            )
        self.embed = layers.Embedding(self.vocabulary_size, self.embedding_dim, name="embed")
        self.position = layers.Embedding(self.sequence_length, self.embedding_dim, name="position")
        width = self.embedding_dim
        self.attention = [
            layers.MultiHeadAttention(self.num_heads, width // self.num_heads, name=f"attention{i}")
            for i in range(self.num_layers)
        ]
        self.feed_forward = [
            (
                layers.Dense(2 * width, activation="relu", name=f"ff{i}_in"),
                layers.Dense(width, name=f"ff{i}_out"),
            )
            for i in range(self.num_layers)
        ]
        self.norms = [
            (
                layers.LayerNormalization(name=f"norm{i}_a"),
                layers.LayerNormalization(name=f"norm{i}_b"),
            )
            for i in range(self.num_layers)
        ]
        self.project = layers.Dense(self.dim, name="project")

    def check_inputs(self, tokens):
        super().check_inputs(tokens)
        length = tuple(tokens.shape)[1]
        if length is not None and length > self.sequence_length:
            raise ValueError(
                f"{self.name!r}: expected at most {self.sequence_length} tokens; "
                f"got shape {tuple(tokens.shape)}"
            )

    def build(self, input_shape):
        check_rank(input_shape, 2, what=self.name, expected=TOKENS)
        if input_shape[1] is not None and input_shape[1] > self.sequence_length:
            raise ValueError(
                f"{self.name!r}: expected at most {self.sequence_length} tokens; "
                f"got shape {tuple(input_shape)}"
            )
        seq = (input_shape[0], input_shape[1], self.embedding_dim)
        self.embed.build(input_shape)
        self.position.build((input_shape[1],))
        for attention, (grow, shrink), (norm_a, norm_b) in zip(
            self.attention, self.feed_forward, self.norms
        ):
            attention.build(seq, seq)
            norm_a.build(seq)
            norm_b.build(seq)
            grow.build(seq)
            shrink.build(seq[:2] + (2 * self.embedding_dim,))
        self.project.build((input_shape[0], self.embedding_dim))

    def call(self, tokens):
        self.check_inputs(tokens)
        tokens = ops.cast(tokens, "int32")
        length = ops.shape(tokens)[1]
        mask = ops.not_equal(tokens, 0)  # (batch, length)
        x = self.embed(tokens) + self.position(ops.arange(length))[None]
        keys = mask[:, None, :] & ops.ones_like(mask)[:, :, None]  # (batch, query, key)
        for attention, (grow, shrink), (norm_a, norm_b) in zip(
            self.attention, self.feed_forward, self.norms
        ):
            y = norm_a(x)
            x = x + attention(y, y, attention_mask=keys)
            x = x + shrink(grow(norm_b(x)))
        weights = ops.cast(mask, x.dtype)[..., None]
        pooled = ops.sum(x * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
        return self.project(pooled)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "dim": self.dim,
            "sequence_length": self.sequence_length,
            "num_heads": self.num_heads,
            "embedding_dim": self.embedding_dim,
            "num_layers": self.num_layers,
        }


MEL_SETTINGS = {"fft_length": 256, "sequence_stride": 64, "num_mel_bins": 48}
"""Log-mel settings shared by the audio encoder and the plots (32 ms windows
and an 8 ms hop at 8 kHz, 48 mel bins)."""

DECIBEL_SCALE = 40.0
"""Log-mel powers span a few tens of decibels; dividing by 40 brings them to
about unit range, where the convolutions' default initialisation works."""


def mel_spectrogram_layer(
    sampling_rate=SAMPLING_RATE, num_mel_bins=MEL_SETTINGS["num_mel_bins"], name=None
):
    """A ``keras.layers.MelSpectrogram`` with the course's settings.

    Maps ``(batch, samples)`` waveforms to ``(batch, num_mel_bins, frames)``
    log-mel power (decibels), ``frames = 1 + samples // 64``.
    """
    settings = {**MEL_SETTINGS, "num_mel_bins": check_int(num_mel_bins, "num_mel_bins")}
    sampling_rate = check_int(sampling_rate, "sampling_rate")
    return layers.MelSpectrogram(
        sampling_rate=sampling_rate, max_freq=sampling_rate / 2, name=name, **settings
    )


@keras.saving.register_keras_serializable(package="crossmodal")
class AudioEncoder(layers.Layer):
    """A spectrogram encoder: audio -> ``(batch, dim)``.

    With ``waveform=True`` it takes ``(batch, samples)`` waveforms and turns
    them into a log-mel spectrogram inside the layer (``MEL_SETTINGS`` and
    ``num_mel_bins``); with ``waveform=False`` it takes that spectrogram,
    ``(batch, bins, frames)``, computed once beforehand (cheaper when the same
    clips are seen many times). The decibels are scaled by ``DECIBEL_SCALE``,
    then a stack of 1-D convolutions over time (mel bins as channels), each
    with ReLU and 2x max pooling, a mean over time and a dense projection.
    Taught in the chapter "The knowledge-fusion network".

    Args:
        dim: size of the output vector.
        filters: filters of each 1-D convolution (kernel 5).
        waveform: whether inputs are waveforms (else log-mel spectrograms).
        sampling_rate: sampling rate of the waveforms in Hz.
        num_mel_bins: mel bins of the spectrogram made from waveforms.
    """

    def __init__(
        self,
        dim,
        filters=(32, 32),
        waveform=True,
        sampling_rate=SAMPLING_RATE,
        num_mel_bins=MEL_SETTINGS["num_mel_bins"],
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.dim = check_int(dim, "dim")
        self.filters = check_ints(filters, "filters")
        self.waveform = bool(waveform)
        self.sampling_rate = check_int(sampling_rate, "sampling_rate")
        self.num_mel_bins = check_int(num_mel_bins, "num_mel_bins")
        self.expected = (
            "waveforms (batch, samples)"
            if self.waveform
            else "log-mel spectrograms (batch, bins, frames)"
        )
        self.mel = (
            mel_spectrogram_layer(self.sampling_rate, self.num_mel_bins, name="mel")
            if self.waveform
            else None
        )
        self.convs = [
            layers.Conv1D(f, 5, padding="same", activation="relu", name=f"conv{i}")
            for i, f in enumerate(self.filters)
        ]
        self.pool = layers.MaxPooling1D(2, padding="same")
        self.project = layers.Dense(self.dim, name="project")

    def check_inputs(self, audio):
        check_rank(audio, 2 if self.waveform else 3, what=self.name, expected=self.expected)
        _check_numeric(audio, self.name)

    def build(self, input_shape):
        check_rank(input_shape, 2 if self.waveform else 3, what=self.name, expected=self.expected)
        width = self.num_mel_bins if self.waveform else input_shape[1]
        for conv in self.convs:
            conv.build((input_shape[0], None, width))
            width = conv.filters
        self.project.build((input_shape[0], width))

    def call(self, audio):
        self.check_inputs(audio)
        x = ops.cast(audio, "float32")
        if self.waveform:
            x = self.mel(x)
        x = ops.transpose(x, (0, 2, 1)) / DECIBEL_SCALE  # (batch, frames, bins)
        x = ops.cast(x, self.compute_dtype)
        for conv in self.convs:
            x = self.pool(conv(x))
        return self.project(ops.mean(x, axis=1))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {
            **super().get_config(),
            "dim": self.dim,
            "filters": list(self.filters),
            "waveform": self.waveform,
            "sampling_rate": self.sampling_rate,
            "num_mel_bins": self.num_mel_bins,
        }
