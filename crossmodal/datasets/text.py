"""Tokenisation of captions and questions with a fixed vocabulary.

Token ids follow Keras' ``TextVectorization``: ``0`` is padding, ``1`` an
out-of-vocabulary word, and ``2 + i`` the ``i``-th word of ``VOCABULARY``.
Taught in the chapter "Modalities and shared spaces".
"""

import keras
import numpy as np

from crossmodal.datasets.shapes import VOCABULARY


def caption_vectorizer(sequence_length=16, vocabulary=VOCABULARY):
    """A ``TextVectorization`` layer mapping sentences to ``(batch, sequence_length)`` ids.

    The vocabulary is fixed (no ``adapt`` needed), so the same word always
    gets the same id in every chapter. ``vocabulary_size()`` counts padding
    and the OOV token.
    """
    if sequence_length < 1:
        raise ValueError(f"sequence_length must be >= 1; got {sequence_length}")
    return keras.layers.TextVectorization(
        vocabulary=list(vocabulary),
        output_mode="int",
        output_sequence_length=sequence_length,
        standardize="lower_and_strip_punctuation",
    )


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
