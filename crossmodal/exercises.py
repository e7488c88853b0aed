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


def check_contrastive_loss(fn):
    """Chapter "Cross-modal mapping and alignment": ``fn(a, b, temperature)`` -> InfoNCE.

    ``a`` and ``b`` are ``(n, d)`` unit vectors, row ``i`` of each a matching
    pair; the result is the mean of the two directions' cross-entropies.
    """
    from crossmodal.losses import contrastive_loss

    rng = np.random.default_rng(11)
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    cases = [
        (np.eye(3), np.eye(3), 0.05, "identical pairs at a low temperature give about 0"),
        (unit(np.ones((5, 2))), unit(np.ones((5, 2))), 1.0, "equal similarities give log(5)"),
        (unit(rng.normal(size=(8, 4))), unit(rng.normal(size=(8, 4))), 0.1, "random pairs"),
        (
            unit(np.array([[1.0, 0], [0, 1]])),
            unit(np.array([[1.0, 1], [0, 1]])),
            0.5,
            "a non-symmetric similarity matrix: average both directions",
        ),
    ]
    for a, b, temperature, what in cases:
        want = float(contrastive_loss(a.astype("float32"), b.astype("float32"), temperature))
        got = float(fn(a, b, temperature))
        assert np.isclose(got, want, rtol=1e-4, atol=1e-5), (
            f"{what}: expected {want:.4f}, got {got:.4f} (divide the similarities by the "
            f"temperature, and average the row-wise and column-wise cross-entropies)"
        )
    return _passed("contrastive_loss")


def check_modality_mask(fn):
    """Chapter "The multimodal autoencoder": ``fn(draws, subsets, modalities)`` -> mask.

    ``draws`` is ``(batch,)`` indices into ``subsets`` (lists of modality
    names); the result must be ``(batch, len(modalities))`` with 1.0 where
    the drawn subset presents the modality and 0.0 where it hides it.
    """
    modalities = ["caption", "image"]
    subsets = [["image"], ["caption"], ["caption", "image"]]
    three = ["a", "b", "c"]
    cases = [
        (np.array([0, 1, 2]), subsets, modalities, [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]),
        (
            np.array([2, 2, 0, 1]),
            subsets,
            modalities,
            [[1.0, 1.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]],
        ),
        (np.array([1, 0]), [["c"], ["a", "b"]], three, [[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
    ]
    for draws, subs, names, want in cases:
        got = np.asarray(fn(draws, subs, names), dtype=float)
        want = np.asarray(want)
        assert got.shape == want.shape, (
            f"for {len(draws)} draws and modalities {names} expected shape {want.shape}; "
            f"got {got.shape} (one row per example, one column per modality)"
        )
        assert np.array_equal(got, want), (
            f"draws {draws.tolist()} with subsets {subs} and modalities {names}: expected "
            f"{want.tolist()}, got {got.tolist()} (column j is modality names[j])"
        )
    return _passed("modality_mask")


def check_gated_fusion(fn):
    """Chapter "The knowledge-fusion network": a gated multimodal unit in NumPy.

    ``fn(vectors, transforms, gate)``: ``vectors`` a list of ``(n, d_i)``
    arrays, ``transforms`` a list of ``(W_i, b_i)`` with ``W_i`` ``(d_i, dim)``,
    ``gate`` a pair ``(W_g, b_g)`` with ``W_g`` ``(sum d_i, N * dim)``. It must
    return ``(n, dim)``: ``sum_i g_i * tanh(z_i W_i + b_i)`` where the gates of
    each output unit are a softmax over the ``N`` modalities of the logits
    ``[z_1; ...; z_N] W_g + b_g`` reshaped to ``(n, N, dim)``.
    """
    from crossmodal.fusion import GatedFusion

    rng = np.random.default_rng(5)
    for dims, dim in (((3, 4), 2), ((2, 5, 3), 4)):
        vectors = [rng.normal(size=(6, d)).astype("float32") for d in dims]
        layer = GatedFusion(dim)
        want = np.asarray(layer(vectors))
        transforms = [(t.kernel.numpy(), t.bias.numpy()) for t in layer.transforms]
        gate = (layer.gates.kernel.numpy(), layer.gates.bias.numpy())
        got = np.asarray(fn(vectors, transforms, gate))
        assert got.shape == want.shape, (
            f"for {len(dims)} modalities of widths {dims} and dim={dim} expected shape "
            f"{want.shape}; got {got.shape}"
        )
        assert np.allclose(got, want, atol=1e-4), (
            f"wrong values for widths {dims}: expected {want[0].round(3).tolist()}, got "
            f"{got[0].round(3).tolist()} (softmax over the modality axis of (n, N, dim)?)"
        )
    return _passed("gated_fusion")


def check_fixed_autoencoder(fn):
    """Chapter "Code walkthrough": ``fn(vocabulary_size, sequence_length)`` -> compiled model.

    The model must take ``{"image": (batch, 32, 32, 3), "caption": (batch,
    sequence_length)}`` token ids and return ``{"image": (batch, 32, 32, 3),
    "caption": (batch, sequence_length, vocabulary_size)}`` probabilities,
    compiled with a squared error on the image and a sparse categorical
    cross-entropy on the caption (checked on hand-computed values).
    """
    import keras

    for vocabulary_size, length in ((12, 6), (30, 9)):
        try:
            model = fn(vocabulary_size, length)
            batch = {
                "image": np.zeros((2, 32, 32, 3), "float32"),
                "caption": np.ones((2, length), "int32"),
            }
            out = model(batch)
        except ValueError as error:
            raise AssertionError(
                f"the model fails on 32x32x3 images and {length}-token captions: {error}"
            ) from error
        assert isinstance(out, dict) and set(out) == {"image", "caption"}, (
            f"expected a dict with 'image' and 'caption'; got {type(out).__name__} "
            f"{sorted(out) if isinstance(out, dict) else ''}"
        )
        want = {"image": (2, 32, 32, 3), "caption": (2, length, vocabulary_size)}
        for name, shape in want.items():
            got = tuple(out[name].shape)
            assert got == shape, (
                f"{name} comes back as {got} but must be {shape} (each decoder rebuilds its "
                f"own modality's shape)"
            )
        losses = getattr(model, "loss", None)
        assert isinstance(losses, dict) and set(losses) >= {"image", "caption"}, (
            f"compile with a dict of losses, one per modality; got loss={losses!r}"
        )
        image_loss = keras.losses.get(losses["image"])
        caption_loss = keras.losses.get(losses["caption"])
        got = float(np.mean(image_loss(np.zeros((1, 4)), np.full((1, 4), 0.5))))
        assert np.isclose(got, 0.25, atol=1e-5), (
            f"the image loss gives {got:.4f} for pixels 0 predicted as 0.5; a mean squared "
            f"error gives 0.25"
        )
        try:
            got = float(
                np.mean(caption_loss(np.array([[0, 1]]), np.array([[[0.5, 0.5], [0.2, 0.8]]])))
            )
        except Exception as error:  # e.g. a squared error between ids and probabilities
            raise AssertionError(
                f"the caption loss cannot compare token ids (batch, length) with "
                f"probabilities (batch, length, vocabulary): {error}"
            ) from error
        want_ce = -(np.log(0.5) + np.log(0.8)) / 2
        assert np.isclose(got, want_ce, atol=1e-4), (
            f"the caption loss gives {got:.4f} for ids [0, 1] predicted with probabilities "
            f"0.5 and 0.8; the cross-entropy gives {want_ce:.4f} (use "
            f"sparse_categorical_crossentropy, not a squared error)"
        )
    return _passed("fixed_autoencoder")


def check_average_precision(fn):
    """Chapter "Frontiers and challenges": ``fn(scores, positives)`` -> average precision.

    ``scores`` is ``(n,)`` floats, higher meaning "more likely positive";
    ``positives`` is ``(n,)`` booleans. The result is the mean, over the
    positives, of the precision among the items ranked at or above each one
    (the cases have no tied scores).
    """
    from sklearn.metrics import average_precision_score  # imported where used

    rng = np.random.default_rng(17)
    random_scores = rng.normal(size=60)
    cases = [
        (
            np.array([0.9, 0.8, 0.7, 0.6]),
            np.array([True, True, False, False]),
            "positives ranked first",
        ),
        (
            np.array([0.9, 0.8, 0.7, 0.6]),
            np.array([True, False, True, False]),
            "precision 1 at the first positive and 2/3 at the second",
        ),
        (
            np.array([0.1, 0.4, 0.35, 0.8]),
            np.array([False, True, False, True]),
            "scores in no particular order",
        ),
        (random_scores, random_scores + rng.normal(size=60) > 0.5, "60 noisy scores"),
    ]
    for scores, positives, what in cases:
        want = average_precision_score(positives, scores)
        got = float(fn(scores.copy(), positives.copy()))
        assert np.isclose(got, want, atol=1e-6), (
            f"{what}: expected {want:.4f}, got {got:.4f} (rank by decreasing score, and "
            f"average the precision at the rank of each positive, not at every rank)"
        )
    return _passed("average_precision")


def check_film(fn):
    """Chapter "Cross-modal reasoning": ``fn(features, gamma, beta)`` -> FiLM in NumPy.

    ``features`` is ``(batch, height, width, channels)``, ``gamma`` and
    ``beta`` are ``(batch, channels)``; the result must be
    ``features * (1 + gamma) + beta``, each channel of each example scaled
    and shifted by its own pair, the same at every position.
    """
    rng = np.random.default_rng(13)
    features = rng.normal(size=(2, 3, 4, 5))
    zeros = np.zeros((2, 5))
    cases = [
        (features, zeros, zeros, features, "zero gamma and beta must give the features back"),
        (
            np.ones((1, 2, 2, 2)),
            np.array([[1.0, -1.0]]),
            np.array([[0.5, 2.0]]),
            np.broadcast_to([1.0 * 2 + 0.5, 0.0 + 2.0], (1, 2, 2, 2)),
            "gamma scales as (1 + gamma), beta shifts",
        ),
    ]
    gamma, beta = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    cases.append(
        (
            features,
            gamma,
            beta,
            features * (1 + gamma[:, None, None, :]) + beta[:, None, None, :],
            "each example and channel has its own gamma and beta, shared by positions",
        )
    )
    for x, g, b, want, what in cases:
        got = np.asarray(fn(x, g, b), dtype=float)
        assert got.shape == want.shape, (
            f"expected shape {want.shape} (the features' shape); got {got.shape}"
        )
        assert np.allclose(got, want, atol=1e-6), (
            f"{what}: expected {np.round(want.reshape(-1)[:4], 3).tolist()}..., got "
            f"{np.round(got.reshape(-1)[:4], 3).tolist()}... (broadcast gamma[:, None, None, :])"
        )
    return _passed("film")


def check_kl_divergence(fn):
    """Chapter "Generating one modality from another": ``fn(mean, log_var)`` -> KL to N(0, I).

    ``mean`` and ``log_var`` are ``(batch, latent_dim)``; the result must be
    ``0.5 * sum(exp(log_var) + mean ** 2 - 1 - log_var)`` over the latent axis,
    averaged over the batch.
    """
    rng = np.random.default_rng(17)
    cases = [
        (np.zeros((3, 4)), np.zeros((3, 4)), 0.0, "the prior itself is at KL 0"),
        (np.array([[2.0, 0.0]]), np.zeros((1, 2)), 2.0, "a shifted mean costs mean ** 2 / 2"),
        (
            np.zeros((1, 1)),
            np.log([[4.0]]),
            0.5 * (4.0 - 1.0 - np.log(4.0)),
            "the argument is the log-variance, not the standard deviation",
        ),
        (
            np.array([[1.0, 0.0], [0.0, 0.0]]),
            np.zeros((2, 2)),
            0.25,
            "sum over the latent axis, then average over the batch",
        ),
    ]
    mean, log_var = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    want = np.mean(0.5 * np.sum(np.exp(log_var) + mean**2 - 1 - log_var, axis=-1))
    cases.append((mean, log_var, want, "random means and log-variances"))
    for mean, log_var, want, what in cases:
        got = float(fn(mean.copy(), log_var.copy()))
        assert np.isclose(got, want, rtol=1e-5, atol=1e-6), (
            f"{what}: expected {want:.4f}, got {got:.4f} (each coordinate gives "
            f"0.5 * (exp(log_var) + mean ** 2 - 1 - log_var))"
        )
    return _passed("kl_divergence")
