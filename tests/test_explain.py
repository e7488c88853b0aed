"""Attribution by occlusion, token deletion and left-out pairs (crossmodal.explain)."""

import keras
import numpy as np
import pytest

import crossmodal  # noqa: F401  (sets the Keras backend)
from crossmodal.decoders import VectorDecoder
from crossmodal.encoders import ImageEncoder, TokenEncoder, VectorEncoder
from crossmodal.explain import occlusion_map, pair_importance, token_importance
from crossmodal.models import FusionNetwork
from crossmodal.models.reasoning import film_network, relation_network


def _softmax_of(score):
    """Two-class probabilities (sigmoid(score), 1 - sigmoid(score)) from (batch,) scores."""
    first = 1 / (1 + np.exp(-score))
    return np.stack([first, 1 - first], axis=1)


def corner_model(inputs):
    """Reads only the top-left 8x8 pixels of the image; ignores the caption."""
    score = 2 * inputs["image"][:, :8, :8, :].mean(axis=(1, 2, 3))
    return {"label": _softmax_of(score)}


def word_model(inputs):
    """Counts the token 5 in the caption; ignores the image."""
    score = 3.0 * (inputs["caption"] == 5).sum(axis=1) - 1.0
    return {"label": _softmax_of(score)}


def _inputs(n=2):
    return {
        "image": np.ones((n, 16, 16, 3), "float32"),
        "caption": np.array([[5, 2, 5, 0], [3, 5, 0, 0]][:n], "int32"),
    }


def test_occlusion_puts_all_importance_where_the_model_reads():
    maps = occlusion_map(corner_model, _inputs(), patch=4, stride=4, fill=0.0)
    assert maps.shape == (2, 16, 16) and maps.dtype == np.float32
    # each pixel of the corner is covered by one patch, which lowers its mean from 1 to 0.75
    want = 1 / (1 + np.exp(-2.0)) - 1 / (1 + np.exp(-1.5))
    np.testing.assert_allclose(maps[:, :8, :8], want, rtol=1e-5)
    outside = maps.copy()
    outside[:, :8, :8] = 0
    assert np.all(outside == 0)


def test_overlapping_patches_average_and_reach_the_edges():
    # stride 3 with patch 4 on 16 pixels: offsets 0, 3, 6, 9, 12 (the last flush with the edge)
    maps = occlusion_map(corner_model, _inputs(1), patch=4, stride=3, fill=0.0)
    assert np.all(maps[0, :8, :8] > 0)
    assert np.all(maps[0, 12:, 12:] == 0)
    # pixel (0, 0) is covered by one patch, fully inside the corner
    one_patch = 1 / (1 + np.exp(-2.0)) - 1 / (1 + np.exp(-1.5))
    np.testing.assert_allclose(maps[0, 0, 0], one_patch, rtol=1e-5)
    # pixel (6, 6) is covered by the patches at (3, 3), (3, 6), (6, 3) and (6, 6), which hide
    # 16, 8, 8 and 4 of the corner's 64 pixels: the map holds the mean of the four drops
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    drops = [sigmoid(2.0) - sigmoid(2.0 * (64 - hidden) / 64) for hidden in (16, 8, 8, 4)]
    np.testing.assert_allclose(maps[0, 6, 6], np.mean(drops), rtol=1e-5)


def test_explaining_another_class_flips_the_sign():
    predicted = occlusion_map(corner_model, _inputs(1), patch=4, stride=4, fill=0.0)
    other = occlusion_map(corner_model, _inputs(1), patch=4, stride=4, fill=0.0, target=1)
    np.testing.assert_allclose(other, -predicted, atol=1e-6)


def test_token_importance_lands_on_the_token_the_model_reads():
    scores = token_importance(word_model, _inputs())
    assert scores.shape == (2, 4) and scores.dtype == np.float32
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    # example 0 has two 5s (score 5); removing one leaves score 2
    np.testing.assert_allclose(
        scores[0], [sigmoid(5) - sigmoid(2), 0, sigmoid(5) - sigmoid(2), 0], rtol=1e-5
    )
    # example 1 has one 5 (score 2); removing it leaves -1; padding scores 0
    np.testing.assert_allclose(scores[1], [0, sigmoid(2) - sigmoid(-1), 0, 0], rtol=1e-5)


def test_works_on_a_fusion_network():
    model = FusionNetwork(
        {"image": ImageEncoder(4, filters=(4,)), "caption": TokenEncoder(9, 4, units=4)},
        "gated",
        VectorDecoder(3, hidden=(4,), output_activation="softmax"),
    )
    rng = np.random.default_rng(0)
    inputs = {
        "image": rng.random((3, 12, 12, 3)).astype("float32"),
        "caption": rng.integers(0, 9, (3, 5)).astype("int32"),
    }
    assert occlusion_map(model, inputs, patch=4, stride=2).shape == (3, 12, 12)
    scores = token_importance(model, inputs)
    assert scores.shape == (3, 5)
    assert np.all(scores[inputs["caption"] == 0] == 0)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: occlusion_map(corner_model, {"caption": np.zeros((2, 4), "int32")}),
            ValueError,
            "'image' is not",
        ),
        (lambda: occlusion_map(corner_model, np.ones((2, 16, 16, 3))), TypeError, "dict"),
        (
            lambda: occlusion_map(corner_model, {"image": np.ones((2, 16, 16))}),
            ValueError,
            "images",
        ),
        (lambda: occlusion_map(corner_model, _inputs(), patch=17), ValueError, "patch"),
        (lambda: occlusion_map(corner_model, _inputs(), patch=0), ValueError, "patch"),
        (lambda: occlusion_map(corner_model, _inputs(), stride=0), ValueError, "stride"),
        (lambda: occlusion_map(corner_model, _inputs(), target=[0]), ValueError, "target"),
        (lambda: occlusion_map(corner_model, _inputs(), target=2), ValueError, "target"),
        (
            lambda: occlusion_map(
                corner_model,
                {"image": np.ones((2, 16, 16, 3)), "caption": np.zeros((3, 4), "int32")},
            ),
            ValueError,
            "batch sizes",
        ),
        (
            lambda: occlusion_map(
                lambda x: {"a": np.ones((2, 2)), "b": np.ones((2, 2))}, _inputs()
            ),
            ValueError,
            "output=",
        ),
        (
            lambda: token_importance(word_model, {"caption": np.zeros((2, 4, 1), "int32")}),
            ValueError,
            "token ids",
        ),
        (
            lambda: token_importance(word_model, {"caption": np.zeros((2, 4), "float32")}),
            TypeError,
            "integer",
        ),
    ],
)
def test_bad_arguments_raise(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _relation_model():
    keras.utils.set_random_seed(0)
    model = relation_network(
        VectorEncoder(6, hidden=(8,)), 5, stem=(4, 4, 4), relation=(8,), hidden=(8,)
    )
    rng = np.random.default_rng(0)
    inputs = {
        "image": rng.random((3, 32, 32, 3)).astype("float32"),
        "question": rng.normal(size=(3, 7)).astype("float32"),
    }
    model(inputs)
    return model, inputs


def test_pair_importance_is_the_drop_when_one_pair_leaves_the_sum():
    model, inputs = _relation_model()
    importance = pair_importance(model, inputs)
    assert importance.shape == (3, 16, 16)  # three poolings: 32x32 -> 4x4 cells
    codes, _ = model.encoder.codes(inputs, training=False)
    relations = np.asarray(model.fusion.relations(codes))
    total = relations.sum(axis=(1, 2))
    np.testing.assert_allclose(total, np.asarray(model.encode(inputs)), rtol=1e-5, atol=1e-5)
    given = np.asarray(model(inputs)["answer"])
    for example, i, j in [(0, 0, 5), (1, 9, 9), (2, 15, 0)]:
        answer = given[example].argmax()
        without = (total[example] - relations[example, i, j])[None].astype("float32")
        kept = np.asarray(model.head(without))[0, answer]
        np.testing.assert_allclose(
            importance[example, i, j], given[example, answer] - kept, atol=1e-5
        )


def test_pair_importance_needs_a_relation_network():
    model = film_network(VectorEncoder(4), 5, filters=(4,), hidden=(4,))
    with pytest.raises(TypeError, match="RelationFusion"):
        pair_importance(
            model,
            {"image": np.zeros((1, 16, 16, 3), "float32"), "question": np.zeros((1, 3), "float32")},
        )
