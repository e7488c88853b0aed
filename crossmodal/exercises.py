"""Checkers for the coding exercises: call one with your function.

Each checker runs your function on cases it knows the answers to and
raises ``AssertionError`` with a hint at the first wrong answer, or returns
``True`` and prints a confirmation.
"""

import numpy as np

from crossmodal.datasets.text import bag_of_words
from crossmodal.evaluation import recall_at_k


def _passed(name):
    print(f"{name}: all checks passed.")
    return True


def check_bag_of_words(fn):
    """Chapter "Modalities and shared spaces": ``fn(tokens, vocabulary_size)`` -> counts.

    ``tokens`` is ``(n, length)`` ids; the result must be ``(n, vocabulary_size)``
    counts with the padding (0) and OOV (1) columns left at zero.
    """
    rng = np.random.default_rng(7)
    cases = [
        (np.array([[2, 3, 3, 0, 0]]), 5),
        (np.array([[1, 4, 4, 4, 0], [0, 0, 0, 0, 0]]), 6),
        (rng.integers(0, 12, size=(20, 9)), 12),
    ]
    for tokens, size in cases:
        got = np.asarray(fn(tokens, size))
        want = bag_of_words(tokens, size)
        assert got.shape == want.shape, (
            f"for tokens of shape {tokens.shape} and vocabulary_size={size} expected shape "
            f"{want.shape}; got {got.shape}"
        )
        assert np.allclose(got, want), (
            f"wrong counts for tokens {tokens[:2].tolist()}...: expected {want[:2].tolist()}, "
            f"got {got[:2].tolist()} (are padding and OOV columns zero?)"
        )
    return _passed("bag_of_words")


def check_recall_at_1(fn):
    """Chapter "Modalities and shared spaces": ``fn(queries, gallery)`` -> recall@1.

    Query ``i`` matches gallery row ``i``; similarity is cosine.
    """
    rng = np.random.default_rng(3)
    eye = np.eye(4)
    cases = [
        (eye, eye),  # perfect: 1.0
        (eye, eye[[1, 0, 2, 3]]),  # two swapped: 0.5
        (rng.normal(size=(50, 8)), rng.normal(size=(50, 8))),
    ]
    for queries, gallery in cases:
        want = recall_at_k(queries, gallery, 1)
        got = float(fn(queries, gallery))
        assert np.isclose(got, want), (
            f"expected recall@1 = {want:.3f} for {len(queries)} queries; got {got:.3f} "
            f"(normalise rows before the dot product?)"
        )
    scaled = float(fn(eye * [1, 5, 1, 1], eye[[1, 0, 2, 3]] * [1, 1, 9, 1]))
    assert np.isclose(scaled, 0.5), "recall must not depend on vector lengths: use cosine"
    return _passed("recall_at_1")
