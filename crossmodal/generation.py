"""Generating one modality from another: captions from a code, images from a caption.

``CaptionGenerator`` writes a caption one token at a time, conditioned on a
code vector (an image's code, say); ``greedy_decode``, ``sample_decode`` and
``beam_search`` turn any next-token distribution into token arrays.
``ConditionalVAE`` draws many different images for one caption. Pieces for the
chapter "Generating one modality from another".

Token ids are those of ``crossmodal.datasets.text``: ``0`` is padding, ``1``
an unknown word, ``2 + i`` a word. The vocabulary has no start or end token,
so the padding id plays both parts: the generator reads ``0`` as the token
before the first word, and writing ``0`` ends a caption (captions are padded
at the end, so after the last word a caption's next token is ``0``).
"""

import keras
import numpy as np
from keras import layers, ops

from crossmodal.datasets.text import PADDING
from crossmodal.encoders import TOKENS
from crossmodal.multimodal import EncoderModel, MultimodalEncoder, describe
from crossmodal.serialization import Composite, serialize
from crossmodal.validation import (
    check_int,
    check_modalities,
    check_number,
    check_rank,
    check_token_ids,
)

_INPUTS = ("code", "previous")
_PREVIOUS = "previous token ids (batch, length)"
START = END = PADDING
"""The token read before the first word and the token that ends a caption (padding, ``0``)."""


def previous_tokens(tokens):
    """The generator's input for teacher forcing: ``(batch, T)`` -> ``(batch, T)``.

    Each position holds the token before it: ``START`` (``0``) first, then
    ``tokens[:, :-1]``. Train ``CaptionGenerator`` to map
    ``{"code": code, "previous": previous_tokens(tokens)}`` to ``tokens``.
    """
    tokens = np.asarray(tokens)
    check_rank(tokens, 2, what="tokens", expected=TOKENS)
    check_token_ids(tokens, "tokens")
    return np.pad(tokens[:, :-1], ((0, 0), (1, 0)), constant_values=START)


@keras.saving.register_keras_serializable(package="crossmodal")
class CaptionGenerator(layers.Layer):
    """An autoregressive caption decoder: a code and the previous tokens -> next-token logits.

    ``inputs`` is a dict: ``"code"`` ``(batch, d)`` (an image's code, say) and
    ``"previous"`` ``(batch, T)`` token ids (``previous_tokens`` makes them
    from a caption). A dense layer (tanh) turns the code into a context
    vector, the GRU's initial state, which is also read at every step beside
    the embedded previous token (so the code is not forgotten as the caption
    grows); a dense layer gives next-token logits ``(batch, T,
    vocabulary_size)`` in float32.
    Train it with ``SparseCategoricalCrossentropy(from_logits=True)`` against
    the caption's token ids. ``greedy_decode``, ``sample_decode`` and ``beam_search`` write
    ``(batch, length)`` captions from codes; a row ends with ``END`` (``0``)
    and is padded with it.

    Args:
        vocabulary_size: number of token ids, padding and OOV included.
        units: size of the GRU state.
        embedding_dim: width of each token's embedding.
    """

    def __init__(self, vocabulary_size, units=64, embedding_dim=32, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = check_int(vocabulary_size, "vocabulary_size", minimum=2)
        self.units = check_int(units, "units")
        self.embedding_dim = check_int(embedding_dim, "embedding_dim")
        self.embed = layers.Embedding(self.vocabulary_size, self.embedding_dim, name="embed")
        self.initial_state = layers.Dense(self.units, activation="tanh", name="initial_state")
        self.gru = layers.GRU(self.units, return_sequences=True, name="gru")
        self.logits = layers.Dense(self.vocabulary_size, name="logits", dtype="float32")

    def _check(self, inputs):
        inputs = check_modalities(inputs, _INPUTS, owner=self.name)
        if list(inputs) != list(_INPUTS):
            raise ValueError(f"{self.name}: expected the inputs {_INPUTS}; got {list(inputs)}")
        check_rank(inputs["code"], 2, what=self.name, expected="codes (batch, dim)")
        check_rank(inputs["previous"], 2, what=self.name, expected=_PREVIOUS)
        return inputs

    def build(self, input_shape):
        shape = self._check(input_shape)
        self.embed.build(shape["previous"])
        self.initial_state.build(shape["code"])
        self.gru.build((*shape["previous"], self.embedding_dim + self.units))
        self.logits.build((*shape["previous"], self.units))

    def call(self, inputs):
        inputs = self._check(inputs)
        check_token_ids(inputs["previous"], self.name, self.vocabulary_size)
        context = self.initial_state(ops.cast(inputs["code"], self.compute_dtype))
        tokens = self.embed(ops.cast(inputs["previous"], "int32"))
        steps = ops.shape(tokens)[1]
        every_step = ops.repeat(ops.expand_dims(context, 1), steps, axis=1)
        sequence = ops.concatenate([tokens, ops.cast(every_step, tokens.dtype)], axis=-1)
        return self.logits(self.gru(sequence, initial_state=[context]))

    def compute_output_shape(self, input_shape):
        return (*self._check(input_shape)["previous"], self.vocabulary_size)

    def compute_output_spec(self, inputs):
        shape = self.compute_output_shape({k: tuple(v.shape) for k, v in inputs.items()})
        return keras.KerasTensor(shape, dtype="float32")

    def step(self, code, repeat=1):
        """The step function of ``code`` ``(batch, d)``, each row repeated ``repeat`` times.

        It maps the tokens written so far ``(batch * repeat, t)`` to the
        next token's log-probabilities ``(batch * repeat, vocabulary_size)``.
        """
        code = np.repeat(ops.convert_to_numpy(code), repeat, axis=0)

        def next_token(prefix):
            previous = np.pad(prefix, ((0, 0), (1, 0)), constant_values=START)
            logits = self({"code": code, "previous": previous.astype("int32")})[:, -1]
            return ops.convert_to_numpy(ops.log_softmax(logits, axis=-1))

        return next_token

    def greedy_decode(self, code, length):
        """``greedy_decode`` from codes ``(batch, d)``: tokens and log-probabilities."""
        return greedy_decode(self.step(code), len(code), length)

    def sample_decode(self, code, length, temperature=1.0, seed=None):
        """``sample_decode`` from codes ``(batch, d)``: tokens and log-probabilities."""
        return sample_decode(self.step(code), len(code), length, temperature, seed)

    def beam_search(self, code, length, beam_width=3):
        """``beam_search`` from codes ``(batch, d)``: tokens and log-probabilities."""
        return beam_search(self.step(code, beam_width), len(code), length, beam_width)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "units": self.units,
            "embedding_dim": self.embedding_dim,
        }


def _log_probs(step, prefix):
    log_probs = np.asarray(ops.convert_to_numpy(step(prefix)), np.float64)
    if log_probs.ndim != 2 or len(log_probs) != len(prefix):
        raise ValueError(
            f"step must return log-probabilities (rows, vocabulary_size) for {len(prefix)} "
            f"rows; got shape {log_probs.shape}"
        )
    return log_probs


def _decode(step, batch_size, length, pick):
    batch_size, length = check_int(batch_size, "batch_size"), check_int(length, "length")
    tokens = np.zeros((batch_size, 0), np.int32)
    total, done = np.zeros(batch_size), np.zeros(batch_size, bool)
    for _ in range(length):
        log_probs = _log_probs(step, tokens)
        word = np.where(done, END, pick(log_probs))
        total += np.where(done, 0.0, log_probs[np.arange(batch_size), word])
        done |= word == END
        tokens = np.concatenate([tokens, word[:, None].astype(np.int32)], axis=1)
    return tokens, total


def greedy_decode(step, batch_size, length):
    """Write ``length`` tokens per row, taking the most probable one each time.

    Args:
        step: maps the tokens so far, ``(batch_size, t)`` int32 with ``t``
            from 0 to ``length - 1``, to the next token's log-probabilities
            ``(batch_size, vocabulary_size)``.
        batch_size: number of rows.
        length: tokens per row.

    Returns:
        ``(tokens, log_probs)``: ``(batch_size, length)`` int32 ids, and each
        row's log-probability ``(batch_size,)`` under ``step``. A row that
        writes ``END`` (``0``) is padded with it; padding adds nothing.
    """
    return _decode(step, batch_size, length, lambda log_probs: np.argmax(log_probs, axis=-1))


def sample_decode(step, batch_size, length, temperature=1.0, seed=None):
    """Write ``length`` tokens per row, drawing each from ``softmax(log_probs / temperature)``.

    Below 1 the temperature sharpens the distribution (towards
    ``greedy_decode`` as it goes to 0), above 1 it flattens it. The draws
    come from a NumPy generator seeded with ``seed``: the same seed gives the
    same tokens on every backend.

    Args:
        step, batch_size, length: as in ``greedy_decode``.
        temperature: > 0.
        seed: integer seed, or ``None`` for fresh draws.

    Returns:
        ``(tokens, log_probs)`` as in ``greedy_decode``; the log-probabilities
        are those of ``step``, at temperature 1.
    """
    temperature = check_number(temperature, "temperature", above=0.0)
    rng = np.random.default_rng(seed)

    def pick(log_probs):  # the Gumbel-max trick: one exact draw per row
        return np.argmax(log_probs / temperature + rng.gumbel(size=log_probs.shape), axis=-1)

    return _decode(step, batch_size, length, pick)


def beam_search(step, batch_size, length, beam_width=3):
    """Keep the ``beam_width`` most probable prefixes per row; return the most probable sequence.

    At each step every kept prefix is extended by every token and the
    ``beam_width`` extensions with the highest total log-probability are kept
    (no length normalisation); a prefix that has written ``END`` (``0``) is
    only extended by ``END``, at no cost. ``beam_width=1`` is greedy decoding.

    Args:
        step: as in ``greedy_decode``, for ``batch_size * beam_width`` rows:
            rows ``i * beam_width`` to ``(i + 1) * beam_width - 1`` hold the
            beams of example ``i``.
        batch_size, length: as in ``greedy_decode``.
        beam_width: prefixes kept per example (>= 1).

    Returns:
        ``(tokens, log_probs)``: the best sequence per example
        ``(batch_size, length)`` int32 and its log-probability ``(batch_size,)``.
    """
    batch_size, length = check_int(batch_size, "batch_size"), check_int(length, "length")
    width = check_int(beam_width, "beam_width")
    tokens = np.zeros((batch_size * width, 0), np.int32)
    scores = np.tile([0.0] + [-np.inf] * (width - 1), batch_size)  # one live beam to start
    done = np.zeros(batch_size * width, bool)
    for _ in range(length):
        log_probs = _log_probs(step, tokens)
        vocabulary = log_probs.shape[1]
        ended = np.where(np.arange(vocabulary) == END, 0.0, -np.inf)
        log_probs = np.where(done[:, None], ended, log_probs)
        candidates = (scores[:, None] + log_probs).reshape(batch_size, width * vocabulary)
        best = np.argsort(-candidates, axis=1, kind="stable")[:, :width]
        parent = (np.arange(batch_size)[:, None] * width + best // vocabulary).ravel()
        word = (best % vocabulary).ravel().astype(np.int32)
        scores = np.take_along_axis(candidates, best, axis=1).ravel()
        tokens = np.concatenate([tokens[parent], word[:, None]], axis=1)
        done = done[parent] | (word == END)
    return tokens[::width], scores[::width]


def kl_divergence(mean, log_var):
    """KL divergence from ``N(mean, exp(log_var))`` to the prior ``N(0, I)``.

    ``0.5 * sum(exp(log_var) + mean ** 2 - 1 - log_var)`` over the latent
    axis, averaged over the batch: ``(batch, latent_dim)`` twice -> a float32
    scalar.
    """
    mean, log_var = ops.cast(mean, "float32"), ops.cast(log_var, "float32")
    per_example = 0.5 * ops.sum(ops.exp(log_var) + ops.square(mean) - 1.0 - log_var, axis=-1)
    return ops.mean(per_example)


@keras.saving.register_keras_serializable(package="crossmodal")
class ConditionalVAE(EncoderModel, Composite, keras.Model):
    """A conditional variational autoencoder: p(target | z, conditions), z ~ N(0, I).

    ``inputs`` is a dict holding the ``target`` modality (e.g. ``"image"``
    ``(batch, 32, 32, 3)``) and every other modality of ``encoders``, the
    *conditions* (e.g. a caption's code ``(batch, d)`` or its token ids).
    Each modality goes through its encoder (a ``MultimodalEncoder`` with
    concatenation); a dense layer on all the codes gives the posterior
    q(z | target, conditions) as ``mean`` and ``log_var`` ``(batch,
    latent_dim)``; in training ``z = mean + exp(log_var / 2) * noise`` (the
    reparameterisation trick; ``z = mean`` otherwise); the decoder reads
    ``z`` concatenated with the condition codes. ``call`` returns
    ``{target: reconstruction}``.

    ``call`` adds ``kl_weight * kl_divergence(mean, log_var)`` with
    ``add_loss``, so the built-in ``fit`` minimises the compiled
    reconstruction loss plus the KL term:
    ``compile(optimizer, loss={"image": "mse"})``, ``fit(x, {"image": x["image"]})``.
    With a mean squared error over pixels, ``kl_weight = 2 sigma^2 / pixels``
    gives the evidence lower bound of a Gaussian decoder of variance ``sigma^2``;
    larger weights trade detail for a smoother latent space. ``generate``
    decodes draws of ``z`` from the prior.

    Args:
        encoders: dict of modality name to encoder layer (two or more).
        decoder: ``(batch, latent_dim + condition width)`` -> the target, e.g. ``ImageDecoder``.
        target: the modality that is generated.
        latent_dim: width of ``z``.
        kl_weight: weight of the KL term (>= 0).
        seed: seed of the training noise.

    Raises:
        ValueError: for a ``target`` without an encoder, no condition, or a
            decoder whose output shape is not the target's.
    """

    NESTED = ("encoders", "decoder")

    def __init__(
        self,
        encoders,
        decoder,
        *,
        target="image",
        latent_dim=16,
        kl_weight=1e-3,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.encoder = MultimodalEncoder(encoders, "concat", name="encoder")
        if target not in self.modalities or len(self.modalities) < 2:
            raise ValueError(
                f"{self.name}: encoders must hold the target {target!r} and at least one "
                f"condition; got {self.modalities}"
            )
        if not isinstance(decoder, layers.Layer):
            raise TypeError(f"decoder must be a Keras layer; got {type(decoder).__name__}")
        self.target = target
        self.conditions = [name for name in self.modalities if name != target]
        self.decoder = decoder
        self.latent_dim = check_int(latent_dim, "latent_dim")
        self.kl_weight = check_number(kl_weight, "kl_weight", at_least=0.0)
        self.seed = None if seed is None else check_int(seed, "seed", minimum=0)
        self.posterior = layers.Dense(2 * self.latent_dim, name="posterior")
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def build(self, input_shape):
        if not self.encoder.built:
            self.encoder.build(input_shape)
        codes = self.encoder.code_shapes
        if not self.posterior.built:
            self.posterior.build(self.encoder.fusion.compute_output_shape(codes))
        width = self.latent_dim + sum(codes[name][-1] for name in self.conditions)
        if not self.decoder.built:
            self.decoder.build((None, width))
        want = self.encoder.input_shapes[self.target]
        got = tuple(self.decoder.compute_output_shape((want[0], width)))
        if got[1:] != tuple(want[1:]):
            raise ValueError(
                f"{self.name}: the decoder produces shape {describe(got)} but modality "
                f"{self.target!r} has shape {describe(want)}"
            )

    def _decode(self, z, codes, training=None):
        conditions = [ops.cast(codes[name], z.dtype) for name in self.conditions]
        return self.decoder(ops.concatenate([z, *conditions], axis=-1), training=training)

    def call(self, inputs, training=None):
        codes, presence = self.encoder.codes(inputs, training=training)
        missing = [name for name in self.modalities if name not in codes]
        if missing:
            raise ValueError(f"{self.name}: the posterior needs every modality; missing {missing}")
        stats = self.posterior(self.encoder.fusion(codes, presence=presence))
        mean, log_var = ops.split(ops.cast(stats, "float32"), 2, axis=-1)
        self.add_loss(self.kl_weight * kl_divergence(mean, log_var))
        z = mean
        if training:
            noise = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
            z = mean + ops.exp(0.5 * log_var) * noise
        return {self.target: self._decode(z, codes, training=training)}

    def compute_output_shape(self, input_shape):
        return {self.target: tuple(input_shape[self.target])}  # build checked the decoder

    def generate(self, conditions, n, seed=None):
        """Draw ``n`` targets per example of ``conditions`` with ``z`` from the prior.

        Args:
            conditions: dict of every condition modality to ``(batch, ...)``.
            n: draws per example.
            seed: seed of the NumPy draws of ``z`` (the same seed gives the
                same targets), or ``None`` for fresh ones.

        Returns:
            NumPy ``(batch, n, *target_shape)``.
        """
        n = check_int(n, "n")
        conditions = check_modalities(conditions, self.conditions, owner=self.name)
        if list(conditions) != self.conditions:
            raise ValueError(
                f"{self.name}: generate needs every condition {self.conditions}; "
                f"got {list(conditions)}"
            )
        codes, _ = self.encoder.codes(conditions)
        batch = ops.shape(codes[self.conditions[0]])[0]
        z = np.random.default_rng(seed).standard_normal((batch * n, self.latent_dim))
        codes = {name: ops.repeat(code, n, axis=0) for name, code in codes.items()}
        out = ops.convert_to_numpy(self._decode(ops.convert_to_tensor(z, "float32"), codes))
        return out.reshape(batch, n, *out.shape[1:])

    def get_config(self):
        return {
            **super().get_config(),
            "encoders": serialize(self.encoders),
            "decoder": serialize(self.decoder),
            "target": self.target,
            "latent_dim": self.latent_dim,
            "kl_weight": self.kl_weight,
            "seed": self.seed,
        }
