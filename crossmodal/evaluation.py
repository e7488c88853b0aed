"""Evaluation of shared spaces: retrieval ranks, recall@k, median rank;
the linear probe and the linear CCA baseline.

Query ``i`` matches gallery item ``i`` (or, with ``labels``, every gallery
item of the same label). Similarities are cosine, computed in chunks of
queries so that a gallery of 100,000 items never needs an ``n x n`` matrix.
Taught in the chapter "Modalities and shared spaces".
"""

import numpy as np


def _unit(x, name):
    x = np.asarray(x, np.float32)
    if not np.isfinite(x).all():
        raise ValueError(
            f"{name} must be finite; got {int(np.size(x) - np.isfinite(x).sum())} "
            f"NaN or infinite values in an array of shape {x.shape}"
        )
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def retrieval_ranks(queries, gallery, labels=None, chunk=256):
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
        ValueError: if the two sets differ in length or width, or hold NaN or
            infinite values.
    """
    queries, gallery = _unit(queries, "queries"), _unit(gallery, "gallery")
    if queries.ndim != 2 or queries.shape != gallery.shape:
        raise ValueError(
            f"queries and gallery must both be (n, d) with the same shape; "
            f"got {queries.shape} and {gallery.shape}"
        )
    n = len(queries)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (n,):
            raise ValueError(f"labels must have shape ({n},); got {labels.shape}")
    ranks = np.empty(n, np.int64)
    for start in range(0, n, chunk):
        rows = slice(start, start + chunk)
        scores = queries[rows] @ gallery.T
        if labels is None:  # one correct item per query: the diagonal
            idx = np.arange(len(scores))
            best = scores[idx, start + idx][:, None]
            ranks[rows] = np.count_nonzero(scores >= best, axis=1)  # counts itself once
        else:
            correct = labels[rows, None] == labels[None, :]
            best = np.where(correct, scores, -np.inf).max(axis=1, keepdims=True)
            ranks[rows] = 1 + np.count_nonzero((scores >= best) & ~correct, axis=1)
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


def linear_probe(train_features, train_labels, test_features, test_labels, C=1.0):
    """Test accuracy of a logistic regression trained on frozen features.

    The standard check of a representation: how much of the label a linear
    classifier can read off it. Features are standardised on the training
    set; scikit-learn runs with one BLAS thread (see ``runtime.blas_threads``).
    Taught in the chapter "The multimodal autoencoder"; the mapping chapter reuses it.

    Args:
        train_features, test_features: ``(n, d)`` features.
        train_labels, test_labels: ``(n,)`` integer labels.
        C: inverse L2 regularisation strength.

    Returns:
        The accuracy on the test set, a float in ``[0, 1]``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from crossmodal.runtime import blas_threads

    train_features = np.asarray(train_features, np.float64)
    test_features = np.asarray(test_features, np.float64)
    if train_features.ndim != 2 or test_features.shape[1:] != train_features.shape[1:]:
        raise ValueError(
            f"features must be (n, d) with the same d; got {train_features.shape} "
            f"and {test_features.shape}"
        )
    with blas_threads():
        probe = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
        probe.fit(train_features, np.asarray(train_labels))
        return float(probe.score(test_features, np.asarray(test_labels)))


class LinearCCA:
    """A fitted linear CCA: projections of both views onto paired directions.

    Made by ``cca``. ``transform_x(x)`` and ``transform_y(y)`` give
    ``(n, n_components)`` canonical variates; ``correlations`` holds the
    canonical correlations on the training data (shrunk by the ridge, if any).
    """

    def __init__(self, mean_x, mean_y, weights_x, weights_y, correlations):
        self.mean_x, self.mean_y = mean_x, mean_y
        self.weights_x, self.weights_y = weights_x, weights_y
        self.correlations = correlations

    def transform_x(self, x):
        """Canonical variates ``(n, n_components)`` of the first view."""
        return (np.asarray(x, np.float64) - self.mean_x) @ self.weights_x

    def transform_y(self, y):
        """Canonical variates ``(n, n_components)`` of the second view."""
        return (np.asarray(y, np.float64) - self.mean_y) @ self.weights_y


def cca(x_train, y_train, n_components, regularization=1e-3):
    """Fit linear canonical correlation analysis (Hotelling, 1936) to two views.

    Finds directions ``w_x``, ``w_y`` maximising the correlation of
    ``x @ w_x`` and ``y @ w_y``: whiten each view with its (ridge-regularised)
    covariance, then take the singular vectors of the whitened
    cross-covariance. ``regularization`` is added to each covariance's
    diagonal, relative to its mean variance; without it CCA on few examples
    finds spurious directions of perfect training correlation.

    Args:
        x_train: ``(n, dx)`` first view.
        y_train: ``(n, dy)`` second view, row ``i`` paired with ``x_train[i]``.
        n_components: number of canonical pairs (at most ``min(dx, dy)``).
        regularization: relative ridge added to both covariances (>= 0).

    Returns:
        A ``LinearCCA`` with ``transform_x``, ``transform_y`` and ``correlations``.

    Raises:
        ValueError: on unpaired views or too many components.
    """
    from crossmodal.runtime import blas_threads

    x = np.asarray(x_train, np.float64)
    y = np.asarray(y_train, np.float64)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise ValueError(f"views must be (n, d) with the same n; got {x.shape} and {y.shape}")
    if not 1 <= n_components <= min(x.shape[1], y.shape[1]):
        raise ValueError(
            f"n_components must be between 1 and {min(x.shape[1], y.shape[1])}; got {n_components}"
        )
    if regularization < 0:
        raise ValueError(f"regularization must be >= 0; got {regularization}")

    def inverse_sqrt(cov):
        ridge = regularization * np.trace(cov) / len(cov) + 1e-10
        values, vectors = np.linalg.eigh(cov + ridge * np.eye(len(cov)))
        return (vectors / np.sqrt(np.maximum(values, 1e-12))) @ vectors.T

    with blas_threads():
        mean_x, mean_y = x.mean(0), y.mean(0)
        x, y = x - mean_x, y - mean_y
        n = len(x) - 1
        white_x = inverse_sqrt(x.T @ x / n)
        white_y = inverse_sqrt(y.T @ y / n)
        u, s, vt = np.linalg.svd(white_x @ (x.T @ y / n) @ white_y)
        return LinearCCA(
            mean_x,
            mean_y,
            white_x @ u[:, :n_components],
            white_y @ vt[:n_components].T,
            s[:n_components],
        )
