"""Evaluation of shared spaces: retrieval ranks, recall@k, median rank.

Query ``i`` matches gallery item ``i`` (or, with ``labels``, every gallery
item of the same label). Similarities are cosine, computed in chunks of
queries so that a gallery of 100,000 items never needs an ``n x n`` matrix.
Taught in the chapter "Modalities and shared spaces".
"""

import numpy as np


def _unit(x):
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def retrieval_ranks(queries, gallery, labels=None, chunk=1024):
    """The 1-based rank of the first correct gallery item for every query.

    Args:
        queries: ``(n, d)`` query embeddings.
        gallery: ``(n, d)`` gallery embeddings; row ``i`` is query ``i``'s match.
        labels: optional ``(n,)`` labels; then every gallery item with the
            query's label counts as correct.
        chunk: queries scored at once (memory is ``chunk x n`` floats).

    Returns:
        ``(n,)`` int ranks: 1 means a correct item scored highest. Ties count
        against the query (a wrong item scoring equal ranks above it).

    Raises:
        ValueError: if the two sets differ in length or width.
    """
    queries, gallery = _unit(queries), _unit(gallery)
    if queries.ndim != 2 or queries.shape != gallery.shape:
        raise ValueError(
            f"queries and gallery must both be (n, d) with the same shape; "
            f"got {queries.shape} and {gallery.shape}"
        )
    n = len(queries)
    labels = np.arange(n) if labels is None else np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},); got {labels.shape}")
    ranks = np.empty(n, np.int64)
    for start in range(0, n, chunk):
        rows = slice(start, start + chunk)
        scores = queries[rows] @ gallery.T
        correct = labels[rows, None] == labels[None, :]
        best = np.where(correct, scores, -np.inf).max(axis=1, keepdims=True)
        ranks[rows] = 1 + np.sum((scores >= best) & ~correct, axis=1)
    return ranks


def recall_at_k(queries, gallery, k, labels=None):
    """Fraction of queries whose correct item is among the top ``k``.

    Raises:
        ValueError: if ``k`` is not between 1 and the gallery size.
    """
    n = len(gallery)
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the gallery size {n}; got {k}")
    return float(np.mean(retrieval_ranks(queries, gallery, labels) <= k))


def median_rank(queries, gallery, labels=None):
    """The median over queries of the correct item's rank (1 is perfect)."""
    return float(np.median(retrieval_ranks(queries, gallery, labels)))


def chance_recall_at_k(k, gallery_size, relevant=1):
    """Recall@k of a random ranking when ``relevant`` of ``gallery_size`` items are correct."""
    if relevant == 1:
        return k / gallery_size
    # probability that at least one correct item lands in k random draws
    misses = np.prod([(gallery_size - relevant - i) / (gallery_size - i) for i in range(k)])
    return float(1.0 - misses)
