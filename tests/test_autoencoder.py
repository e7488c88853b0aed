"""The multimodal autoencoder, its decoders and modality dropout."""

import keras
import numpy as np
import pytest

from crossmodal import runtime
from crossmodal.decoders import ImageDecoder, TokenDecoder, VectorDecoder
from crossmodal.dropout import ModalityDropout, all_subsets
from crossmodal.encoders import ImageEncoder, TokenEncoder, VectorEncoder
from crossmodal.models import CrossModalMapper, MultimodalAutoencoder

VOCAB, LENGTH, LATENT = 20, 5, 8


def _data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "image": rng.random((n, 16, 16, 3)).astype("float32"),
        "caption": rng.integers(0, VOCAB, size=(n, LENGTH)),
    }


def _model(dropout=None, seed=0):
    runtime.seed_everything(seed)
    return MultimodalAutoencoder(
        {"image": ImageEncoder(12, filters=(4, 8)), "caption": TokenEncoder(VOCAB, 12, units=8)},
        {
            "image": ImageDecoder((16, 16, 3), filters=(8, 4)),
            "caption": TokenDecoder(VOCAB, LENGTH, hidden=(16,)),
        },
        latent_dim=LATENT,
        modality_dropout=dropout,
    )


def _compile(model):
    model.compile(
        keras.optimizers.Adam(1e-2),
        loss={"image": "mse", "caption": "sparse_categorical_crossentropy"},
        loss_weights={"image": 10.0, "caption": 1.0},
    )
    return model


def test_decoders_shapes_and_validation():
    z = np.zeros((3, 7), "float32")
    assert ImageDecoder((32, 32, 3))(z).shape == (3, 32, 32, 3)
    assert ImageDecoder((8, 24, 1), filters=(4, 4, 4))(z).shape == (3, 8, 24, 1)
    probs = np.asarray(TokenDecoder(11, 6)(z))
    assert probs.shape == (3, 6, 11)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="multiples of 4"):
        ImageDecoder((30, 32, 3), filters=(8, 4))
    with pytest.raises(ValueError, match="image"):
        ImageDecoder((32, 32, 3), name="image")(np.zeros((2, 4, 4)))


def test_image_decoder_is_linear():
    """No squashing output: values outside [0, 1] are reachable."""
    decoder = ImageDecoder((8, 8, 1), filters=(2,))
    out = np.asarray(decoder(np.full((1, 4), 100.0, "float32")))
    assert np.abs(out).max() > 1.0


def _presence(n, names="ab"):
    return {k: np.ones(n, "float32") for k in names}


def test_modality_dropout_is_the_identity_at_inference():
    layer = ModalityDropout(seed=3)
    presence = {"a": np.array([1, 0, 1], "float32"), "b": np.array([1, 1, 0], "float32")}
    for training in (None, False):
        out = layer(presence, training=training)
        for name in presence:
            np.testing.assert_array_equal(np.asarray(out[name]), presence[name])


def test_modality_dropout_draws_the_default_subsets_equally_and_never_hides_everything():
    out = ModalityDropout(seed=3)(_presence(6000), training=True)
    a, b = np.asarray(out["a"]), np.asarray(out["b"])
    assert set(np.unique(a)) <= {0.0, 1.0} and set(np.unique(b)) <= {0.0, 1.0}
    assert not np.any((a == 0) & (b == 0)), "every example keeps at least one modality"
    for shown_a, shown_b in ((1, 0), (0, 1), (1, 1)):
        rate = np.mean((a == shown_a) & (b == shown_b))
        assert abs(rate - 1 / 3) < 0.03, (shown_a, shown_b, rate)


def test_modality_dropout_never_shows_an_absent_modality():
    presence = {
        "a": np.ones(3000, "float32"),
        "b": np.tile(np.array([0, 1], "float32"), 1500),
        "c": np.ones(3000, "float32"),
    }
    out = {k: np.asarray(v) for k, v in ModalityDropout(seed=0)(presence, training=True).items()}
    assert np.all(out["b"] <= presence["b"])
    assert np.all(out["a"] + out["b"] + out["c"] >= 1)


def test_a_draw_that_would_leave_nothing_leaves_the_example_as_it_was():
    layer = ModalityDropout([["a"], ["b"]], seed=0)
    presence = {"a": np.zeros(1000, "float32"), "b": np.ones(1000, "float32")}
    out = layer(presence, training=True)
    np.testing.assert_array_equal(np.asarray(out["a"]), 0.0)
    np.testing.assert_array_equal(np.asarray(out["b"]), 1.0)  # also where ["a"] was drawn


def test_modality_dropout_configured_subsets_and_probabilities():
    layer = ModalityDropout([["a"], ["a", "b", "c"]], probabilities=[0.8, 0.2], seed=0)
    out = {k: np.asarray(v) for k, v in layer(_presence(5000, "abc"), training=True).items()}
    assert np.all(out["a"] == 1)
    assert np.array_equal(out["b"], out["c"])
    assert abs(out["b"].mean() - 0.2) < 0.03
    restored = ModalityDropout.from_config(layer.get_config())
    assert restored.subsets == [["a"], ["a", "b", "c"]]
    assert restored.probabilities == [0.8, 0.2] and restored.seed == 0


def test_modality_dropout_repeats_with_its_seed():
    first, second, other = (
        ModalityDropout(seed=s)(_presence(64), training=True) for s in (5, 5, 6)
    )
    np.testing.assert_array_equal(np.asarray(first["a"]), np.asarray(second["a"]))
    assert not np.array_equal(np.asarray(first["a"]), np.asarray(other["a"]))


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: ModalityDropout("ab"), TypeError, "list of lists"),
        (lambda: ModalityDropout([["a"], []]), ValueError, "non-empty"),
        (lambda: ModalityDropout(probabilities=[1.0]), ValueError, "explicit subsets"),
        (lambda: ModalityDropout([["a"], ["b"]], probabilities=[1.0]), ValueError, "2 subsets"),
        (lambda: ModalityDropout([["a"], ["b"]], probabilities=[0.5, 0.6]), ValueError, "sum to 1"),
        (lambda: ModalityDropout(seed=-1), ValueError, "seed"),
        (lambda: ModalityDropout([["z"]])(_presence(4), training=True), ValueError, "'z'"),
        (lambda: ModalityDropout()({"a": np.ones((4, 2), "float32")}), ValueError, "presence of a"),
    ],
)
def test_modality_dropout_rejects_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_outputs_and_encode_from_every_subset():
    model, data = _model(), _data()
    out = model(data)
    assert set(out) == {"image", "caption"}
    assert out["image"].shape == (32, 16, 16, 3)
    assert out["caption"].shape == (32, LENGTH, VOCAB)
    for subset in all_subsets(model.modalities):
        z = model.encode({k: data[k] for k in subset})
        assert z.shape == (32, LATENT), subset
    decoded = model.decode(np.zeros((4, LATENT), "float32"))
    assert decoded["image"].shape == (4, 16, 16, 3)
    assert decoded["caption"].shape == (4, LENGTH, VOCAB)
    # a missing modality is a zero encoding under concat fusion
    image_only = model.encode({"image": data["image"]})
    assert not np.allclose(image_only, model.encode(data))


def test_dropout_off_at_inference_in_model():
    model = _model(dropout=ModalityDropout([["image"], ["caption"], ["image", "caption"]], seed=2))
    data = _data()
    np.testing.assert_array_equal(model.predict(data, verbose=0)["image"], model(data)["image"])
    z_train = np.asarray(model.encode(data, training=True))
    z_full, z_image, z_caption = (
        np.asarray(model.encode({k: data[k] for k in s}))
        for s in (["image", "caption"], ["image"], ["caption"])
    )
    # in training each example's latent is one of its three subset latents
    matches = [np.isclose(z_train, z).all(1) for z in (z_full, z_image, z_caption)]
    assert np.all(np.any(matches, axis=0))
    assert all(m.any() for m in matches)


def test_save_load_round_trip(tmp_path):
    model, data = _model(dropout=ModalityDropout(seed=1)), _data()
    before = model.predict(data, verbose=0)
    path = tmp_path / "ae.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    after = loaded.predict(data, verbose=0)
    for name in before:
        np.testing.assert_array_equal(before[name], after[name])
    np.testing.assert_array_equal(
        model.encode({"caption": data["caption"]}), loaded.encode({"caption": data["caption"]})
    )
    assert isinstance(loaded.modality_dropout, ModalityDropout)


def _fit(seed):
    model, data = _compile(_model(dropout=ModalityDropout(seed=seed), seed=seed)), _data(64)
    history = model.fit(data, data, batch_size=16, epochs=4, verbose=0, shuffle=True)
    return history.history["loss"], model


def test_fit_lowers_loss_and_is_repeatable():
    losses, _ = _fit(0)
    assert losses[-1] < losses[0]
    again, _ = _fit(0)
    assert losses == again


def test_bad_inputs():
    model, data = _model(), _data()
    model(data)
    with pytest.raises(ValueError, match="'audio'"):
        model.encode({"audio": data["image"]})
    with pytest.raises(ValueError, match="empty"):
        model.encode({})
    with pytest.raises(ValueError, match="batch sizes differ"):
        model({"image": data["image"][:3], "caption": data["caption"][:5]})
    with pytest.raises(ValueError, match="'image'"):
        model({"image": data["image"][:, :, :, 0]})
    fresh = _model()
    with pytest.raises(ValueError, match="caption"):
        fresh({"image": data["image"]})  # building needs every modality


def test_construction_checks():
    encoders = {"image": ImageEncoder(4)}
    with pytest.raises(ValueError, match="'caption'.*no encoder"):
        MultimodalAutoencoder(
            encoders, {"image": ImageDecoder((16, 16, 3)), "caption": TokenDecoder(5, 3)}
        )
    with pytest.raises(ValueError, match=r"'image'.*32, 32, 3.*16, 16, 3"):
        MultimodalAutoencoder(
            encoders, {"image": ImageDecoder((32, 32, 3))}, input_shapes={"image": (16, 16, 3)}
        )
    with pytest.raises(TypeError, match="modality_dropout"):
        MultimodalAutoencoder(encoders, {"image": ImageDecoder()}, modality_dropout=0.5)
    built = MultimodalAutoencoder(
        {"image": ImageEncoder(4), "caption": TokenEncoder(5, 4)},
        {"image": ImageDecoder((16, 16, 3)), "caption": TokenDecoder(5, 3)},
        input_shapes={"image": (16, 16, 3), "caption": (3,)},
    )
    assert isinstance(built, CrossModalMapper)
    assert built.encoder.input_shapes == {"caption": (None, 3), "image": (None, 16, 16, 3)}
    assert built.encode({"caption": np.ones((2, 3), "int32")}).shape == (2, 32)


def test_three_vector_modalities():
    """Nothing in the model is specific to images and captions."""
    runtime.seed_everything(0)
    rng = np.random.default_rng(0)
    factors = rng.normal(size=(256, 3)).astype("float32")
    widths = {"left": 5, "middle": 9, "right": 14}
    data = {name: factors @ rng.normal(size=(3, w)).astype("float32") for name, w in widths.items()}
    model = MultimodalAutoencoder(
        {name: VectorEncoder(8, hidden=(16,)) for name in widths},
        {name: VectorDecoder(w, hidden=(16,)) for name, w in widths.items()},
        latent_dim=4,
        modality_dropout=ModalityDropout(seed=0),
    )
    model.compile(keras.optimizers.Adam(1e-2), loss={name: "mse" for name in widths})
    history = model.fit(data, data, batch_size=32, epochs=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    out = model.predict(data, verbose=0)
    assert {name: out[name].shape for name in out} == {n: (256, w) for n, w in widths.items()}
    # a third modality is reconstructed from the other two
    from_two = model.predict({"left": data["left"], "middle": data["middle"]}, verbose=0)
    error = np.mean((from_two["right"] - data["right"]) ** 2)
    assert error < 0.5 * np.mean(data["right"] ** 2)


def test_modality_mask_checker():
    from crossmodal.exercises import check_modality_mask

    def right(draws, subsets, modalities):
        return np.array([[float(m in s) for m in modalities] for s in subsets])[draws]

    def transposed(draws, subsets, modalities):
        return right(draws, subsets, modalities)[:, ::-1]

    assert check_modality_mask(right)
    with pytest.raises(AssertionError, match="column j"):
        check_modality_mask(transposed)
