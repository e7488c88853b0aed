"""The checker of the frontiers chapter's coding exercise (average precision)."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from crossmodal import runtime
from crossmodal.exercises import check_average_precision


def right(scores, positives):
    order = np.argsort(-scores)
    hits = positives[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return precision[hits].mean()


def test_accepts_the_right_answer(capsys):
    assert check_average_precision(right) is True
    assert "all checks passed" in capsys.readouterr().out


def test_accepts_scikit_learns_average_precision():
    def with_sklearn(scores, positives):
        with runtime.blas_threads():
            return average_precision_score(positives, scores)
    assert check_average_precision(with_sklearn) is True


def test_hand_computed_case():
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    assert np.isclose(right(scores, np.array([True, False, True, False])), (1 + 2 / 3) / 2)


@pytest.mark.parametrize("wrong", [
    lambda s, p: right(-s, p),  # ranks the lowest scores first
    lambda s, p: (np.cumsum(p[np.argsort(-s)]) / np.arange(1, len(p) + 1)).mean(),  # every rank
    lambda s, p: p.mean(),  # the share of positives
])
def test_rejects_wrong_answers(wrong):
    with pytest.raises(AssertionError, match="expected"):
        check_average_precision(wrong)
