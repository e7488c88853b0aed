"""Runtime profile and seeding, retrieval metrics on hand-computed cases, exercise checkers."""

import keras
import numpy as np
import pytest

import crossmodal as cm
from crossmodal.evaluation import chance_recall_at_k, median_rank, recall_at_k, retrieval_ranks


def test_profile_follows_the_environment(monkeypatch):
    monkeypatch.setenv("CROSSMODAL_PROFILE", "full")
    assert cm.runtime.profile() == "full" and cm.runtime.pick(1, 2) == 2
    monkeypatch.setenv("CROSSMODAL_PROFILE", "quick")
    assert cm.runtime.pick(quick=1, full=2) == 1
    monkeypatch.setenv("CROSSMODAL_PROFILE", "huge")
    with pytest.raises(ValueError, match="CROSSMODAL_PROFILE"):
        cm.runtime.profile()
    monkeypatch.delenv("CROSSMODAL_PROFILE")
    assert cm.runtime.profile() == ("full" if cm.runtime.gpus() else "quick")


def test_device_report_is_one_line():
    report = cm.runtime.device_report()
    assert "\n" not in report and report.split(":")[0] in {"CPU", "GPU"}


def test_seed_everything_repeats_random_draws():
    cm.runtime.seed_everything(3)
    a = np.random.rand(3), keras.random.uniform((3,)).numpy()
    cm.runtime.seed_everything(3)
    b = np.random.rand(3), keras.random.uniform((3,)).numpy()
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_configure_gpu_is_a_no_op_without_gpu():
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


def test_checkers_accept_right_and_reject_wrong_answers():
    assert cm.exercises.check_bag_of_words(cm.datasets.bag_of_words)
    with pytest.raises(AssertionError, match="padding"):
        cm.exercises.check_bag_of_words(
            lambda t, v: np.eye(v, dtype=np.float32)[t].sum(axis=1))  # counts padding
    assert cm.exercises.check_recall_at_1(lambda q, g: recall_at_k(q, g, 1))
    with pytest.raises(AssertionError):
        cm.exercises.check_recall_at_1(  # dot product without normalising
            lambda q, g: float(np.mean(np.argmax(q @ g.T, axis=1) == np.arange(len(q)))))


def test_mixed_precision_keeps_outputs_in_float32_and_scales_the_loss():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
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
    finally:
        keras.mixed_precision.set_global_policy("float32")
