"""Examples that lack a modality: EmptyAsMissing (crossmodal.dropout)."""

import keras
import numpy as np
import pytest

import crossmodal  # noqa: F401  (sets the Keras backend)
from crossmodal import runtime
from crossmodal.decoders import VectorDecoder
from crossmodal.dropout import EmptyAsMissing
from crossmodal.encoders import ImageEncoder, TokenEncoder, VectorEncoder
from crossmodal.models import FusionNetwork
from crossmodal.multimodal import MultimodalEncoder


def _data(n=8, seed=0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(2, 9, (n, 5)).astype("int32")
    tokens[::2] = 0  # every other example has no caption
    return {"image": rng.random((n, 12, 12, 3)).astype("float32"), "caption": tokens}


def _network(fusion="gated"):
    runtime.seed_everything(0)
    return FusionNetwork(
        {
            "image": ImageEncoder(4, filters=(4,)),
            "caption": EmptyAsMissing(TokenEncoder(9, 4, units=4)),
        },
        fusion,
        VectorDecoder(3, hidden=(4,), output_activation="softmax"),
    )


def test_call_is_the_encoders_own():
    runtime.seed_everything(0)
    inner = TokenEncoder(9, 4, units=4)
    wrapped = EmptyAsMissing(inner)
    tokens = _data()["caption"]
    codes = np.asarray(wrapped(tokens))
    assert codes.shape == (8, 4) == wrapped.compute_output_shape(tokens.shape)
    np.testing.assert_array_equal(codes, np.asarray(inner(tokens)))


def test_presence_is_zero_exactly_where_the_input_is_all_zeros():
    wrapped = EmptyAsMissing(ImageEncoder(4, filters=(2,)))
    images = np.ones((4, 6, 6, 3), "float32")
    images[1] = 0.0
    images[3, 1:] = 0.0  # one non-zero pixel is enough
    images[3, 0, 0] = [0.0, 0.0, -0.5]
    presence = wrapped.presence(images)
    assert keras.backend.standardize_dtype(presence.dtype) == "float32"
    np.testing.assert_array_equal(np.asarray(presence), [1.0, 0.0, 1.0, 1.0])
    tokens = _data()["caption"]
    np.testing.assert_array_equal(
        np.asarray(EmptyAsMissing(TokenEncoder(9, 4)).presence(tokens)), [0, 1, 0, 1, 0, 1, 0, 1]
    )


def test_only_the_input_decides_not_a_zero_code():
    silent = VectorEncoder(3, hidden=())
    silent.build((None, 2))
    silent.set_weights([np.zeros_like(w) for w in silent.get_weights()])  # every code is 0
    encoder = MultimodalEncoder({"a": EmptyAsMissing(silent), "b": VectorEncoder(3)}, "mean")
    x = {"a": np.array([[1.0, 2.0], [0.0, 0.0]], "float32"), "b": np.ones((2, 4), "float32")}
    codes, presence = encoder.codes(x)
    np.testing.assert_array_equal(np.asarray(codes["a"]), 0.0)
    np.testing.assert_array_equal(np.asarray(presence["a"]), [1.0, 0.0])
    fused = np.asarray(encoder(x))
    b = np.asarray(codes["b"])
    np.testing.assert_allclose(fused, [b[0] / 2, b[1]], atol=1e-6)  # a counted in row 0 only


@pytest.mark.parametrize("fusion", ["concat", "gated", "attention"])
def test_an_empty_caption_is_the_same_as_leaving_it_out(fusion):
    model = _network(fusion)
    data = _data()
    full = np.asarray(model(data)["label"])
    image_only = np.asarray(model({"image": data["image"]})["label"])
    np.testing.assert_allclose(full[::2], image_only[::2], atol=1e-6)  # empty captions
    assert not np.allclose(full[1::2], image_only[1::2], atol=1e-4)  # real captions


def test_trains_with_fit_and_round_trips(tmp_path):
    model = _network()
    data = _data(64)
    labels = np.random.default_rng(1).integers(0, 3, 64)
    model.compile(keras.optimizers.Adam(1e-2), loss={"label": "sparse_categorical_crossentropy"})
    history = model.fit(data, {"label": labels}, epochs=5, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert isinstance(loaded.encoders["caption"], EmptyAsMissing)
    np.testing.assert_allclose(
        np.asarray(loaded(data)["label"]), np.asarray(model(data)["label"]), atol=1e-6
    )


def test_rejects_a_non_layer():
    with pytest.raises(TypeError, match="Keras layer"):
        EmptyAsMissing(lambda x: x)
