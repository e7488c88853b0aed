"""The fusion benchmark's parameter counts, memory arithmetic and recorded results."""

import math

import pytest

from crossmodal import costs


def test_concat_has_only_the_head():
    # concatenation has no weights: the count is Dense(32) on 3 x 16 inputs plus Dense(10)
    assert costs.parameters("concat", 3, 16) == (3 * 16 + 1) * 32 + 33 * 10


def test_tensor_fusion_grows_as_the_product_of_widths():
    for n in (2, 3):
        width = math.prod([16 + 1] * n)
        assert costs.parameters("tensor", n, 16) == (
            costs.fusion_layer("tensor", n, 16).count_params() + (width + 1) * 32 + 330
        )
        assert costs.parameters("tensor", n, 16) >= (width + 1) * 32


def test_low_rank_grows_linearly():
    counts = [costs.parameters("low_rank", n, 16) for n in (2, 3, 4, 5)]
    steps = {b - a for a, b in zip(counts, counts[1:])}
    assert len(steps) == 1 and steps.pop() > 0


def test_training_state_and_errors():
    assert costs.training_state_bytes(1000) == 16000
    assert costs.training_state_bytes(10, bytes_per_number=2) == 80
    with pytest.raises(ValueError):
        costs.fusion_layer("mean", 2, 4)
