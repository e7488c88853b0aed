"""The checker of the frontiers chapter's coding exercise (average precision)."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from crossmodal import runtime
from crossmodal.exercises import check_average_precision


def right(scores, positives):
    """Precision at the rank of each positive, from a cumulative count of hits."""
    order = np.argsort(-scores)
    hits = positives[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return precision[hits].mean()


def by_pairs(scores, positives):
    """The same definition written another way: for each positive, the share of positives
    among the items scored at least as high."""
    return np.mean([positives[scores >= scores[i]].mean() for i in np.flatnonzero(positives)])


# (scores, positives, average precision worked out by hand)
CASES = [
    ([0.9, 0.8, 0.7, 0.6], [True, False, True, False], (1 + 2 / 3) / 2),
    ([0.9, 0.8, 0.7, 0.6], [True, False, False, True], (1 + 2 / 4) / 2),
    ([0.1, 0.4, 0.35, 0.8], [False, True, False, True], 1.0),
    ([0.2, 0.9, 0.5], [True, False, False], 1 / 3),
]


@pytest.mark.parametrize(
    "fn", [right, by_pairs, average_precision_score], ids=["cumulative", "pairs", "scikit-learn"]
)
@pytest.mark.parametrize("scores, positives, want", CASES)
def test_references_agree_with_hand_computed_cases(fn, scores, positives, want):
    scores, positives = np.array(scores), np.array(positives)
    with runtime.blas_threads():
        got = fn(positives, scores) if fn is average_precision_score else fn(scores, positives)
    assert np.isclose(got, want)


@pytest.mark.parametrize("fn", [right, by_pairs], ids=["cumulative", "pairs"])
def test_accepts_right_answers(fn, capsys):
    assert check_average_precision(fn) is True
    assert "all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong",
    [
        lambda s, p: right(-s, p),  # ranks the lowest scores first
        lambda s, p: (np.cumsum(p[np.argsort(-s)]) / np.arange(1, len(p) + 1)).mean(),  # every rank
        lambda s, p: p.mean(),  # the share of positives
    ],
)
def test_rejects_wrong_answers(wrong):
    with pytest.raises(AssertionError, match="expected"):
        check_average_precision(wrong)
