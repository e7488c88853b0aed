"""Examples that lack a modality: EmptyAsMissing (crossmodal.dropout)."""

import numpy as np
import pytest

import crossmodal  # noqa: F401  (sets the Keras backend)
import keras
from crossmodal import runtime
from crossmodal.decoders import VectorDecoder
from crossmodal.dropout import EmptyAsMissing
from crossmodal.encoders import ImageEncoder, TokenEncoder
from crossmodal.models import FusionNetwork


def _data(n=8, seed=0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(2, 9, (n, 5)).astype("int32")
    tokens[::2] = 0  # every other example has no caption
    return {"image": rng.random((n, 12, 12, 3)).astype("float32"), "caption": tokens}


def _network(fusion="gated"):
    runtime.seed_everything(0)
    return FusionNetwork(
        {"image": ImageEncoder(4, filters=(4,)),
         "caption": EmptyAsMissing(TokenEncoder(9, 4, units=4))},
        fusion, VectorDecoder(3, hidden=(4,), output_activation="softmax"))


def test_empty_inputs_get_zero_codes_and_others_the_encoders():
    inner = TokenEncoder(9, 4, units=4)
    wrapped = EmptyAsMissing(inner)
    tokens = _data()["caption"]
    codes = np.asarray(wrapped(tokens))
    assert codes.shape == (8, 4)
    assert np.all(codes[::2] == 0)
    np.testing.assert_allclose(codes[1::2], np.asarray(inner(tokens[1::2])), atol=1e-6)
    assert np.all(np.abs(codes[1::2]).sum(axis=1) > 0)


def test_an_empty_caption_is_the_same_as_leaving_it_out():
    model = _network()
    data = _data()
    model(data)
    empty = {"image": data["image"], "caption": np.zeros_like(data["caption"])}
    np.testing.assert_allclose(np.asarray(model(empty)["label"]),
                               np.asarray(model({"image": data["image"]})["label"]), atol=1e-6)


def test_trains_with_fit_and_round_trips(tmp_path):
    model = _network()
    data = _data(64)
    labels = np.random.default_rng(1).integers(0, 3, 64)
    model.compile(keras.optimizers.Adam(1e-2), loss={"label": "sparse_categorical_crossentropy"})
    history = model.fit(data, {"label": labels}, epochs=5, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(data)["label"]),
                               np.asarray(model(data)["label"]), atol=1e-6)


def test_rejects_a_non_layer():
    with pytest.raises(ValueError, match="Keras layer"):
        EmptyAsMissing(lambda x: x)
