"""Runtime profile and seeding, retrieval metrics on hand-computed cases, exercise checkers."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import crossmodal as cm
from crossmodal.evaluation import chance_recall_at_k, median_rank, recall_at_k, retrieval_ranks


def test_profile_follows_the_environment(monkeypatch):
    monkeypatch.setenv("CROSSMODAL_PROFILE", "full")
    assert cm.runtime.profile() == "full" and cm.runtime.pick(quick=1, full=2) == 2
    monkeypatch.setenv("CROSSMODAL_PROFILE", "quick")
    assert cm.runtime.pick(quick=1, full=2) == 1
    monkeypatch.setenv("CROSSMODAL_PROFILE", "huge")
    with pytest.raises(ValueError, match="CROSSMODAL_PROFILE"):
        cm.runtime.profile()
    monkeypatch.delenv("CROSSMODAL_PROFILE")
    assert cm.runtime.profile() == ("full" if cm.runtime.gpus() else "quick")


def test_pick_takes_keywords_only():
    with pytest.raises(TypeError):
        cm.runtime.pick(1, 2)


def test_device_report_is_one_line():
    report = cm.runtime.device_report()
    assert "\n" not in report and report.split(":")[0] in {"CPU", "GPU"}


def test_seed_everything_repeats_random_draws():
    assert cm.runtime.seed_everything(3) == 3
    a = np.random.rand(3), keras.ops.convert_to_numpy(keras.random.uniform((3,)))
    cm.runtime.seed_everything(3)
    b = np.random.rand(3), keras.ops.convert_to_numpy(keras.random.uniform((3,)))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    with pytest.raises(TypeError, match="seed"):
        cm.runtime.seed_everything(1.0)
    with pytest.raises(ValueError, match="seed"):
        cm.runtime.seed_everything(-1)


DETERMINISM = textwrap.dedent("""
    from tensorflow.python.framework import config  # the switch has no public getter
    import crossmodal as cm
    cm.runtime.seed_everything(0)
    print(config.is_op_determinism_enabled())
    cm.runtime.seed_everything(0, deterministic=True)
    print(config.is_op_determinism_enabled())
""")


def test_op_determinism_is_switched_on_only_when_asked():
    pytest.importorskip("tensorflow")
    result = subprocess.run(
        [sys.executable, "-c", DETERMINISM],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "KERAS_BACKEND": "tensorflow"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-2:] == ["False", "True"]


def test_gpus_are_named_and_the_strategy_needs_nothing_on_one_device():
    found = cm.runtime.gpus()
    assert isinstance(found, list) and all(isinstance(name, str) for name in found)
    if keras.backend.backend() == "tensorflow" and len(found) < 2:
        assert cm.runtime.strategy().num_replicas_in_sync == 1


def test_configure_gpu_is_a_no_op_without_gpu(keep_policy):
    with pytest.raises(TypeError):
        cm.runtime.configure_gpu(True)
    assert cm.runtime.configure_gpu(mixed_precision=True) == bool(cm.runtime.gpus())
    if not cm.runtime.gpus():
        assert keras.mixed_precision.global_policy().name == "float32"


def test_ranks_on_a_crafted_case():
    gallery = np.eye(3)
    queries = np.array([[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.0, 0.2, 1.0]])
    # query 1 is closest to gallery 0 (rank 2 for its own item 1); others rank 1
    np.testing.assert_array_equal(retrieval_ranks(queries, gallery), [1, 2, 1])
    assert recall_at_k(queries, gallery, 1) == pytest.approx(2 / 3)
    assert recall_at_k(queries, gallery, 2) == 1.0
    assert median_rank(queries, gallery) == 1.0
    # with labels, any item of the query's label counts as correct
    np.testing.assert_array_equal(retrieval_ranks(queries, gallery, labels=[0, 0, 1]), [1, 1, 1])


def test_ranks_are_scale_free_and_chunking_does_not_matter():
    rng = np.random.default_rng(0)
    q, g = rng.normal(size=(300, 5)), rng.normal(size=(300, 5))
    full = retrieval_ranks(q, g)
    np.testing.assert_array_equal(retrieval_ranks(q * 7, g * 0.1, chunk=7), full)
    assert 100 < median_rank(q, g) < 200  # random embeddings sit near n / 2


def test_retrieval_rejects_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        retrieval_ranks(np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="k must be between 1 and the gallery size 3"):
        recall_at_k(np.eye(3), np.eye(3), 4)


def test_chance_recall():
    assert chance_recall_at_k(5, 500) == pytest.approx(0.01)
    assert chance_recall_at_k(1, 10, relevant=2) == pytest.approx(0.2)
    assert chance_recall_at_k(2, 4, relevant=2) == pytest.approx(1 - (2 / 4) * (1 / 3))


def _counts_by_hand(tokens, vocabulary_size):
    """Bag of words with a loop: count every id from 2 up (0 is padding, 1 unknown)."""
    counts = np.zeros((len(tokens), vocabulary_size), np.float32)
    for row, ids in enumerate(tokens):
        for i in ids:
            if i >= 2:
                counts[row, i] += 1
    return counts


def _recall_at_1_by_hand(queries, gallery):
    """Share of queries whose most cosine-similar gallery row is their own."""
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    g = gallery / np.linalg.norm(gallery, axis=1, keepdims=True)
    return float(np.mean([np.argmax(g @ row) == i for i, row in enumerate(q)]))


def test_reference_answers_on_hand_computed_cases():
    np.testing.assert_array_equal(
        _counts_by_hand(np.array([[2, 3, 3, 0, 1]]), 5), [[0, 0, 1, 2, 0]]
    )
    eye = np.eye(3)
    assert _recall_at_1_by_hand(eye, eye) == 1.0
    assert _recall_at_1_by_hand(eye * [1, 9, 1], eye[[1, 0, 2]]) == pytest.approx(1 / 3)


def test_bag_of_words_checker_accepts_right_and_rejects_wrong_answers():
    assert cm.exercises.check_bag_of_words(_counts_by_hand)
    with pytest.raises(AssertionError, match="padding"):
        cm.exercises.check_bag_of_words(
            lambda t, v: np.eye(v, dtype=np.float32)[t].sum(axis=1)
        )  # counts padding


def test_recall_checker_accepts_right_and_rejects_wrong_answers():
    assert cm.exercises.check_recall_at_1(_recall_at_1_by_hand)
    with pytest.raises(AssertionError):
        cm.exercises.check_recall_at_1(  # dot product without normalising
            lambda q, g: float(np.mean(np.argmax(q @ g.T, axis=1) == np.arange(len(q))))
        )


def test_mixed_precision_keeps_outputs_in_float32_and_scales_the_loss(mixed_float16):
    image = keras.Input((16, 16, 3))
    z = cm.encoders.ImageEncoder(8, filters=(4,))(image)
    out = cm.decoders.VectorDecoder(3, output_activation="softmax")(z)
    model = keras.Model(image, out)
    model.compile("adam", "sparse_categorical_crossentropy")
    assert z.dtype == "float16" and out.dtype == "float32"
    for decoder in (cm.decoders.ImageDecoder((8, 8, 3)), cm.decoders.TokenDecoder(5, 4)):
        assert decoder(z).dtype == "float32", decoder.name
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    loss = model.train_on_batch(np.random.rand(4, 16, 16, 3), np.array([0, 1, 2, 0]))
    assert np.isfinite(loss)


def test_the_policy_is_float32_outside_the_fixture():
    assert keras.mixed_precision.global_policy().name == "float32"
