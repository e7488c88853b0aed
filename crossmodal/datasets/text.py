"""Tokenisation of captions and questions with a fixed vocabulary.

Token ids follow the usual Keras convention: ``0`` is padding, ``1`` an
out-of-vocabulary word, and ``2 + i`` the ``i``-th word of ``VOCABULARY``.
The vocabulary is fixed, so tokenising is a dictionary lookup in NumPy: it
needs no TensorFlow and gives the same ids on every backend. Taught in the
chapter "Modalities and shared spaces".
"""

import re

import numpy as np

from crossmodal.datasets.shapes import VOCABULARY

PADDING, UNKNOWN = 0, 1
_PUNCTUATION = re.compile(r"[!\"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~']")


class Tokenizer:
    """Sentences -> ``(n, sequence_length)`` int32 token ids over a fixed vocabulary.

    Lower-cases each sentence, strips punctuation, splits on white space,
    maps each word to its id (unknown words to ``1``), and cuts or pads
    (with ``0``, at the end) to ``sequence_length``.

    Args:
        sequence_length: ids per sentence (>= 1).
        vocabulary: the words, in id order from 2.
    """

    def __init__(self, sequence_length=16, vocabulary=VOCABULARY):
        if isinstance(sequence_length, bool) or not isinstance(sequence_length, (int, np.integer)):
            raise TypeError(f"sequence_length must be an integer; got {sequence_length!r}")
        if sequence_length < 1:
            raise ValueError(f"sequence_length must be >= 1; got {sequence_length}")
        words = [str(w) for w in vocabulary]
        if len(set(words)) != len(words) or not all(words):
            raise ValueError("vocabulary must hold distinct, non-empty words")
        self.sequence_length = int(sequence_length)
        self.vocabulary = tuple(words)
        self.ids = {word: 2 + i for i, word in enumerate(words)}

    def __call__(self, sentences):
        """``(n,)`` strings (or one string) -> ``(n, sequence_length)`` int32 ids."""
        if isinstance(sentences, (str, bytes)):
            sentences = [sentences]
        sentences = np.asarray(sentences, dtype=object)
        if sentences.ndim != 1:
            raise ValueError(
                f"sentences must be a 1-D array of strings; got shape {sentences.shape}"
            )
        tokens = np.zeros((len(sentences), self.sequence_length), np.int32)
        for row, sentence in enumerate(sentences):
            if isinstance(sentence, bytes):
                sentence = sentence.decode("utf-8")
            if not isinstance(sentence, str):
                raise TypeError(
                    f"sentences must be strings; got {type(sentence).__name__} at row {row}"
                )
            words = _PUNCTUATION.sub("", sentence.lower()).split()[: self.sequence_length]
            tokens[row, : len(words)] = [self.ids.get(w, UNKNOWN) for w in words]
        return tokens

    def vocabulary_size(self):
        """Number of ids, padding and the out-of-vocabulary id included."""
        return len(self.vocabulary) + 2

    def get_vocabulary(self):
        """The word of every id: ``["", "[UNK]", *vocabulary]``."""
        return ["", "[UNK]", *self.vocabulary]


def caption_vectorizer(sequence_length=16, vocabulary=VOCABULARY):
    """A ``Tokenizer`` for the shapes world's captions and questions.

    The vocabulary is fixed, so the same word gets the same id in every
    chapter; ``vocabulary_size()`` counts padding and the out-of-vocabulary id.
    """
    return Tokenizer(sequence_length, vocabulary)


def bag_of_words(tokens, vocabulary_size):
    """Count each word of every row of ``tokens``, ignoring padding and OOV.

    Args:
        tokens: ``(n, length)`` integer token ids.
        vocabulary_size: number of ids, padding and OOV included.

    Returns:
        ``(n, vocabulary_size)`` float32 counts; columns 0 and 1 are zero.
    """
    tokens = np.asarray(tokens)
    if tokens.ndim != 2:
        raise ValueError(f"tokens must have shape (n, length); got shape {tokens.shape}")
    if not np.issubdtype(tokens.dtype, np.integer):
        raise TypeError(f"tokens must be integer ids; got dtype {tokens.dtype}")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= vocabulary_size):
        raise ValueError(
            f"token ids must lie in [0, {vocabulary_size}); "
            f"got ids from {tokens.min()} to {tokens.max()}"
        )
    counts = np.zeros((len(tokens), vocabulary_size), np.float32)
    rows = np.repeat(np.arange(len(tokens)), tokens.shape[1])
    np.add.at(counts, (rows, tokens.ravel()), 1.0)
    counts[:, :2] = 0.0
    return counts
