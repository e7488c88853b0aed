"""Cross-modal mapping and alignment: the contrastive loss, the mapper, the
dual encoder, retrieval metrics, linear CCA and the two-view digits."""

import math

import keras
import numpy as np
import pytest

from crossmodal.datasets import two_view_digits
from crossmodal.decoders import VectorDecoder
from crossmodal.encoders import VectorEncoder
from crossmodal.evaluation import cca, linear_probe, median_rank, recall_at_k, retrieval_ranks
from crossmodal.losses import contrastive_loss
from crossmodal.models import CrossModalMapper, DualEncoder


def _unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype("float32")


# --- contrastive loss -------------------------------------------------------


def test_contrastive_loss_is_near_zero_for_matching_pairs_at_low_temperature():
    a = np.eye(6, dtype="float32")
    assert float(contrastive_loss(a, a, 0.01)) < 1e-6


def test_contrastive_loss_is_log_n_for_uniform_similarities():
    a = _unit(np.ones((7, 3)))
    assert float(contrastive_loss(a, a, 0.3)) == pytest.approx(math.log(7), rel=1e-5)


def test_contrastive_loss_matches_a_hand_computation():
    a = _unit(np.array([[1.0, 0.0], [0.0, 1.0]]))
    b = _unit(np.array([[1.0, 1.0], [0.0, 1.0]]))
    s = a @ b.T / 0.5
    rows = -np.log(np.exp(np.diag(s)) / np.exp(s).sum(axis=1))
    cols = -np.log(np.exp(np.diag(s)) / np.exp(s).sum(axis=0))
    want = 0.5 * (rows.mean() + cols.mean())
    assert float(contrastive_loss(a, b, 0.5)) == pytest.approx(want, rel=1e-5)
    # swapping the roles of the modalities gives the same symmetric loss
    assert float(contrastive_loss(b, a, 0.5)) == pytest.approx(want, rel=1e-5)


def test_contrastive_loss_rejects_unpaired_batches():
    with pytest.raises(ValueError, match="same shape"):
        contrastive_loss(np.ones((4, 3)), np.ones((5, 3)), 0.1)


@pytest.mark.parametrize("temperature", [0.0, -0.5, float("nan")])
def test_contrastive_loss_rejects_a_temperature_that_is_not_positive(temperature):
    a = np.eye(3, dtype="float32")
    with pytest.raises(ValueError, match="temperature must be"):
        contrastive_loss(a, a, temperature)


# --- retrieval metrics --------------------------------------------------------


def test_recall_and_median_rank_on_crafted_embeddings():
    gallery = np.eye(4)
    # query 0 and 1 point exactly at their match; query 2 is closest to item 3,
    # then to item 2 (rank 2); query 3 is closest to 0, then 1, then 3 (rank 3)
    queries = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0.5, 1], [1, 0.6, 0, 0.3]])
    assert retrieval_ranks(queries, gallery).tolist() == [1, 1, 2, 3]
    assert recall_at_k(queries, gallery, 1) == pytest.approx(0.5)
    assert recall_at_k(queries, gallery, 2) == pytest.approx(0.75)
    assert recall_at_k(queries, gallery, 4) == pytest.approx(1.0)
    assert median_rank(queries, gallery) == pytest.approx(1.5)


def test_recall_with_k_larger_than_the_gallery_raises():
    with pytest.raises(ValueError, match="gallery size 4"):
        recall_at_k(np.eye(4), np.eye(4), 5)


@pytest.mark.parametrize(
    "metric", [retrieval_ranks, median_rank, lambda q, g: recall_at_k(q, g, 1)]
)
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_retrieval_metrics_reject_nan_and_infinite_embeddings(metric, bad):
    queries = np.eye(4)
    queries[2, 1] = bad
    with pytest.raises(ValueError, match="queries must be finite; got 1 NaN or infinite"):
        metric(queries, np.eye(4))
    with pytest.raises(ValueError, match="gallery must be finite"):
        metric(np.eye(4), queries)


# --- linear probe and CCA -----------------------------------------------------


def test_linear_probe_reads_a_linear_label():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5))
    y = (x[:, 0] > 0).astype(int)
    assert linear_probe(x[:150], y[:150], x[150:], y[150:]) > 0.9
    assert linear_probe(rng.normal(size=(150, 5)), y[:150], x[150:], y[150:]) < 0.8


def test_cca_recovers_a_shared_signal():
    rng = np.random.default_rng(1)
    shared = rng.normal(size=(500, 1))
    x = np.hstack([shared, rng.normal(size=(500, 3))]) @ rng.normal(size=(4, 4))
    y = np.hstack([shared + 0.1 * rng.normal(size=(500, 1)), rng.normal(size=(500, 2))])
    model = cca(x, y, n_components=2, regularization=0.0)
    assert model.correlations[0] > 0.95 and model.correlations[1] < 0.3
    zx, zy = model.transform_x(x), model.transform_y(y)
    assert zx.shape == zy.shape == (500, 2)
    assert abs(np.corrcoef(zx[:, 0], zy[:, 0])[0, 1]) == pytest.approx(
        model.correlations[0], abs=1e-3
    )
    with pytest.raises(ValueError, match="n_components"):
        cca(x, y, n_components=5)
    with pytest.raises(ValueError, match="same n"):
        cca(x, y[:10], n_components=1)


# --- two-view digits ------------------------------------------------------------


def test_two_view_digits_construction():
    from sklearn.datasets import load_digits

    train, validation, test = two_view_digits(seed=3)
    targets = load_digits().target
    assert len(train["label"]) + len(validation["label"]) + len(test["label"]) == len(targets)
    all_rows = np.concatenate([s["index"] for s in (train, validation, test)])
    assert len(np.unique(all_rows)) == len(targets)  # disjoint splits
    for part in (train, validation, test):
        n = len(part["label"])
        assert part["view1"].shape == part["view2"].shape == (n, 256)
        assert np.all(targets[part["index"]] == part["label"])
        assert np.all(targets[part["partner"]] == part["label"])  # same class
        assert np.all(part["partner"] != part["index"])  # a different image
        assert np.isin(part["partner"], part["index"]).all()  # from the same split
        assert np.all(np.abs(part["angle"]) <= 45) and np.ptp(part["angle"]) > 60
        for view in ("view1", "view2"):
            assert part[view].min() >= 0 and part[view].max() <= 1
        # uniform noise leaves almost no pixel of view 2 at exactly zero
        assert np.mean(part["view2"] == 0) < 0.01 < np.mean(part["view1"] == 0)
    again = two_view_digits(seed=3)[0]
    assert all(np.array_equal(train[k], again[k]) for k in train)
    assert not np.array_equal(train["view1"], two_view_digits(seed=4)[0]["view1"])


def test_rotation_by_zero_degrees_keeps_the_image():
    train, _, _ = two_view_digits(seed=0, max_angle=0.0, noise=0.0)
    from sklearn.datasets import load_digits

    from crossmodal.datasets.digits import _upsample

    originals = _upsample(load_digits().images[train["index"]].astype(float), 16)
    assert np.allclose(train["view1"], originals.reshape(len(originals), -1), atol=1e-5)


# --- models -----------------------------------------------------------------------


def _pairs(n=96, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 10)).astype("float32")
    b = (a @ rng.normal(size=(10, 6))).astype("float32")
    return a, b


def _dual(temperature=0.07, learn_temperature=True):
    return DualEncoder(
        {"a": VectorEncoder(8, hidden=(16,)), "b": VectorEncoder(8, hidden=(16,))},
        projection_dim=4,
        temperature=temperature,
        learn_temperature=learn_temperature,
    )


def test_dual_encoder_embeddings_are_unit_vectors_and_loss_decreases():
    keras.utils.set_random_seed(0)
    a, b = _pairs()
    model = _dual(temperature=0.2)
    out = model({"a": a, "b": b})
    assert out["a"].shape == out["b"].shape == (96, 4)
    assert np.allclose(np.linalg.norm(keras.ops.convert_to_numpy(out["a"]), axis=1), 1, atol=1e-5)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit({"a": a, "b": b}, epochs=15, batch_size=32, verbose=0).history["loss"]
    assert history[-1] < 0.7 * history[0]
    embeddings = model.embed({"b": b})
    assert embeddings.shape == (96, 4)
    assert recall_at_k(model.embed({"a": a}), embeddings, 5) > 5 * 5 / 96


@pytest.mark.parametrize("lr", [1e4, -1e4])
def test_temperature_stays_within_its_clip(lr):
    # a negative learning rate ascends the loss, pushing the temperature the other way
    keras.utils.set_random_seed(0)
    a, b = _pairs(64)
    model = _dual()
    assert float(model.temperature) == pytest.approx(0.07, rel=1e-5)
    model.compile(optimizer=keras.optimizers.SGD(lr))
    model.fit({"a": a, "b": b}, epochs=2, batch_size=16, verbose=0)
    scale = float(model.log_scale.numpy())
    assert 0.0 <= scale <= math.log(100.0) + 1e-6
    assert 0.01 - 1e-6 <= float(model.temperature) <= 1.0 + 1e-6
    assert scale in (pytest.approx(0.0, abs=1e-6), pytest.approx(math.log(100.0), abs=1e-5))


def test_fixed_temperature_is_not_trained():
    a, b = _pairs(64)
    model = _dual(temperature=0.1, learn_temperature=False)
    model.compile(optimizer=keras.optimizers.SGD(1.0))
    model.fit({"a": a, "b": b}, epochs=1, batch_size=16, verbose=0)
    assert float(model.temperature) == pytest.approx(0.1, rel=1e-5)


def test_dual_encoder_save_load_round_trip(tmp_path):
    keras.utils.set_random_seed(1)
    a, b = _pairs(64)
    model = _dual()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit({"a": a, "b": b}, epochs=2, batch_size=16, verbose=0)
    model.save(tmp_path / "dual.keras")
    loaded = keras.saving.load_model(tmp_path / "dual.keras")
    for name, x in (("a", a), ("b", b)):
        np.testing.assert_array_equal(loaded.embed({name: x}), model.embed({name: x}))
    assert float(loaded.temperature) == pytest.approx(float(model.temperature))


def test_dual_encoder_rejects_bad_input():
    a, b = _pairs(32)
    model = _dual()
    with pytest.raises(ValueError, match="batch sizes differ"):
        model({"a": a, "b": b[:10]})
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="batch sizes differ"):
        model.fit({"a": a, "b": b[:10]}, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="unknown modality 'audio'"):
        model.embed({"audio": a})
    with pytest.raises(ValueError, match="at least 2 modalities"):
        DualEncoder({"a": VectorEncoder(4)}, projection_dim=4)
    with pytest.raises(TypeError, match="dict"):
        DualEncoder([VectorEncoder(4), VectorEncoder(4)])
    with pytest.raises(ValueError, match="missing"):
        model.fit({"a": a}, epochs=1, verbose=0)


def _info_nce(a, b, temperature):
    """The symmetric InfoNCE loss in NumPy, from its definition."""
    s = a @ b.T / temperature
    rows = -np.log(np.exp(np.diag(s)) / np.exp(s).sum(axis=1))
    cols = -np.log(np.exp(np.diag(s)) / np.exp(s).sum(axis=0))
    return 0.5 * (rows.mean() + cols.mean())


def test_dual_encoder_loss_is_the_mean_over_modality_pairs():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = {name: rng.normal(size=(8, 5)).astype("float32") for name in "abc"}
    model = DualEncoder(
        {name: VectorEncoder(4, hidden=(8,)) for name in "abc"}, projection_dim=3, temperature=0.5
    )
    out = {k: keras.ops.convert_to_numpy(v).astype("float64") for k, v in model(x).items()}
    pairs = [("a", "b"), ("a", "c"), ("b", "c")]
    want = np.mean([_info_nce(out[p], out[q], 0.5) for p, q in pairs])
    got = float(model.compute_loss(x, None, model(x)))
    assert got == pytest.approx(want, rel=1e-4)
    with pytest.raises(ValueError, match="every modality"):
        model.compute_loss(x, None, {"a": out["a"], "b": out["b"]})


def _mapper(**kwargs):
    return CrossModalMapper(
        {"a": VectorEncoder(16, hidden=(32,))},
        {"b": VectorDecoder(6, hidden=(32,))},
        latent_dim=8,
        **kwargs,
    )


def test_mapper_trains_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    a, b = _pairs(128)
    model = _mapper()
    assert model({"a": a})["b"].shape == (128, 6)
    assert model.encode({"a": a}).shape == (128, 8)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss={"b": "mse"})
    history = model.fit({"a": a}, {"b": b}, epochs=20, batch_size=32, verbose=0).history["loss"]
    assert history[-1] < 0.5 * history[0]
    model.save(tmp_path / "mapper.keras")
    loaded = keras.saving.load_model(tmp_path / "mapper.keras", safe_mode=True)
    np.testing.assert_array_equal(
        loaded.predict({"a": a}, verbose=0)["b"], model.predict({"a": a}, verbose=0)["b"]
    )


def test_mapper_maps_several_sources_to_several_targets():
    keras.utils.set_random_seed(0)
    a, b = _pairs(16)
    model = CrossModalMapper(
        {"a": VectorEncoder(4), "b": VectorEncoder(4)},
        {"x": VectorDecoder(3), "y": VectorDecoder(2)},
        fusion="mean",
        latent_dim=5,
    )
    out = model({"a": a, "b": b})
    assert {k: tuple(v.shape) for k, v in out.items()} == {"x": (16, 3), "y": (16, 2)}
    assert model.compute_output_shape({"a": (None, 10), "b": (None, 6)}) == {
        "x": (None, 3),
        "y": (None, 2),
    }
    latent = model.encode({"b": b})  # any subset of the sources
    decoded = model.decode(latent)
    np.testing.assert_allclose(
        np.asarray(decoded["y"]), np.asarray(model({"b": b})["y"]), atol=1e-6
    )


def test_mapper_rejects_bad_input():
    model = _mapper()
    model({"a": np.ones((2, 10), "float32")})
    with pytest.raises(ValueError, match="unknown modality 'b'"):
        model({"b": np.ones((2, 5), "float32")})
    with pytest.raises(TypeError, match="decoders must be a dict"):
        CrossModalMapper({"a": VectorEncoder(4)}, VectorDecoder(3))
    with pytest.raises(ValueError, match="decoders must hold at least 1 modality"):
        CrossModalMapper({"a": VectorEncoder(4)}, {})
    with pytest.raises(TypeError, match=r"decoders\['b'\] must be a Keras layer"):
        CrossModalMapper({"a": VectorEncoder(4)}, {"b": "dense"})
    with pytest.raises(ValueError, match="latent_dim"):
        CrossModalMapper({"a": VectorEncoder(4)}, {"b": VectorDecoder(3)}, latent_dim=0)
