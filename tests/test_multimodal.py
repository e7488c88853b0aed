"""The shared composition (MultimodalEncoder) and the knowledge-fusion network built on it."""

import keras
import numpy as np
import pytest

import crossmodal  # noqa: F401  (sets the Keras backend)
from crossmodal import fusion
from crossmodal.decoders import VectorDecoder
from crossmodal.dropout import ModalityDropout
from crossmodal.encoders import ImageEncoder, TokenEncoder, VectorEncoder
from crossmodal.models import FusionNetwork
from crossmodal.multimodal import MultimodalEncoder


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


def _vectors(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "image": rng.normal(size=(n, 5)).astype("float32"),
        "text": rng.normal(size=(n, 2)).astype("float32"),
    }


def _encoder(**kwargs):
    return MultimodalEncoder({"text": VectorEncoder(3), "image": VectorEncoder(4)}, **kwargs)


# --- MultimodalEncoder ----------------------------------------------------------------


def test_encoder_builds_with_every_modality_and_remembers_the_shapes():
    encoder = _encoder()
    x = _vectors()
    fused = np.asarray(encoder(x))
    assert fused.shape == (4, 7)
    assert encoder.modalities == ["image", "text"] and list(encoder.encoders) == ["image", "text"]
    assert encoder.input_shapes == {"image": (4, 5), "text": (4, 2)}
    assert isinstance(encoder.fusion, fusion.ConcatFusion) and encoder.modality_dropout is None
    assert encoder.compute_output_shape({"image": (None, 5), "text": (None, 2)}) == (None, 7)
    codes = [np.asarray(encoder.encoders[n](x[n])) for n in ("image", "text")]
    np.testing.assert_allclose(fused, np.concatenate(codes, axis=1), atol=1e-6)


def test_encoder_accepts_any_subset_after_building():
    encoder = _encoder()
    x = _vectors()
    encoder(x)
    codes, presence = encoder.codes({"text": x["text"]})
    assert list(codes) == ["text"]
    np.testing.assert_array_equal(np.asarray(presence["image"]), 0.0)
    np.testing.assert_array_equal(np.asarray(presence["text"]), 1.0)
    text_only = np.asarray(encoder({"text": x["text"]}))
    np.testing.assert_allclose(text_only[:, :4], 0.0)  # concat: the image's slot is zeros
    np.testing.assert_allclose(text_only[:, 4:], np.asarray(codes["text"]), atol=1e-6)


def test_encoder_needs_every_modality_to_build():
    with pytest.raises(ValueError, match=r"every modality.*missing \['text'\]"):
        _encoder()({"image": _vectors()["image"]})


@pytest.mark.parametrize(
    "inputs, error, match",
    [
        (lambda x: {**x, "audio": x["text"]}, ValueError, "unknown modality 'audio'"),
        (lambda x: {"image": x["image"], "text": x["text"][:2]}, ValueError, "batch sizes differ"),
        (
            lambda x: {"image": x["image"][:, :3], "text": x["text"]},
            ValueError,
            r"modality 'image' was built for shape \(batch, 5\)",
        ),
        (lambda x: {}, ValueError, "empty dict"),
        (lambda x: x["image"], TypeError, "dict"),
    ],
)
def test_encoder_errors_name_the_modality(inputs, error, match):
    encoder = _encoder()
    x = _vectors()
    encoder(x)
    with pytest.raises(error, match=match):
        encoder(inputs(x))


def test_an_encoder_that_cannot_build_is_named():
    encoder = MultimodalEncoder({"image": ImageEncoder(4), "text": VectorEncoder(3)})
    with pytest.raises(ValueError, match="modality 'image'.*image size must be known"):
        encoder.build({"image": (None, None, None, 3), "text": (None, 2)})


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: MultimodalEncoder([VectorEncoder(3)]), TypeError, "dict"),
        (lambda: MultimodalEncoder({}), ValueError, "at least 1 modality"),
        (lambda: MultimodalEncoder({"text": lambda x: x}), TypeError, r"encoders\['text'\]"),
        (lambda: _encoder(fusion="sum"), ValueError, "unknown fusion"),
        (lambda: _encoder(modality_dropout=0.5), TypeError, "ModalityDropout"),
    ],
)
def test_encoder_construction_checks(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_modality_dropout_hides_modalities_only_in_training():
    encoder = _encoder(modality_dropout=ModalityDropout(seed=2))
    x = _vectors(n=256)
    encoder(x)
    _, shown = encoder.codes(x, training=False)
    assert all(np.all(np.asarray(p) == 1) for p in shown.values())
    _, drawn = encoder.codes(x, training=True)
    image, text = (np.asarray(drawn[n]) for n in ("image", "text"))
    assert np.all(image + text >= 1)  # never nothing
    assert (image == 0).any() and (text == 0).any()
    fused = np.asarray(encoder.fusion(encoder.codes(x)[0], presence=drawn))
    np.testing.assert_array_equal(fused[image == 0, :4], 0.0)


# --- FusionNetwork -----------------------------------------------------------------------


def _network(kind="gated"):
    encoders = {"image": VectorEncoder(4), "text": VectorEncoder(3)}
    head = VectorDecoder(5, output_activation="softmax")
    if kind.startswith("late"):
        return FusionNetwork(encoders, fusion.LateFusion(head, rule=kind.split("_")[1]))
    if kind == "dropout":
        return FusionNetwork(encoders, "gated", head, modality_dropout=ModalityDropout(seed=1))
    return FusionNetwork(encoders, kind, head)


def _labelled(n=64, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, n)
    x = {
        "image": (np.eye(5)[y] + rng.normal(0, 0.3, (n, 5))).astype("float32"),
        "text": rng.normal(size=(n, 2)).astype("float32"),
    }
    return x, y


@pytest.mark.parametrize(
    "kind", ["gated", "attention", "low_rank", "late_mean", "late_product", "dropout"]
)
def test_network_trains_works_from_subsets_and_round_trips(kind, tmp_path):
    model = _network(kind)
    model.compile(keras.optimizers.Adam(0.02), loss={"label": "sparse_categorical_crossentropy"})
    x, y = _labelled()
    history = model.fit(x, {"label": y}, epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    for subset in ({"image": x["image"]}, {"text": x["text"]}, x):
        probs = np.asarray(model(subset)["label"])
        assert probs.shape == (64, 5)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    model.save(tmp_path / "net.keras")
    loaded = keras.saving.load_model(tmp_path / "net.keras", safe_mode=True)
    for subset in ({"image": x["image"]}, x):
        np.testing.assert_allclose(
            loaded.predict(subset, verbose=0)["label"],
            model.predict(subset, verbose=0)["label"],
            atol=1e-6,
        )


def test_network_exposes_its_encoder_and_encodes_to_the_fused_vector():
    model = FusionNetwork(
        {"image": VectorEncoder(4), "text": VectorEncoder(3)},
        "concat",
        VectorDecoder(2),
        output_name="answer",
    )
    x, _ = _labelled(8)
    assert isinstance(model.encoder, MultimodalEncoder)
    assert model.modalities == ["image", "text"] and model.fusion is model.encoder.fusion
    assert model.encoders is model.encoder.encoders and model.modality_dropout is None
    fused = np.asarray(model.encode(x))
    assert fused.shape == (8, 7)
    np.testing.assert_allclose(fused, np.asarray(model.encoder(x)), atol=1e-6)
    out = model(x)
    assert list(out) == ["answer"]
    np.testing.assert_allclose(np.asarray(out["answer"]), np.asarray(model.head(fused)), atol=1e-6)


def test_network_rejects_bad_input():
    model = _network()
    x, _ = _labelled(8)
    with pytest.raises(ValueError, match="every modality"):
        model.build({"image": (None, 5)})
    model(x)
    with pytest.raises(ValueError, match="unknown modality 'audio'"):
        model({**x, "audio": x["text"]})
    with pytest.raises(ValueError, match="batch sizes differ"):
        model({"image": x["image"], "text": x["text"][:4]})
    with pytest.raises(ValueError, match="'image'"):
        model({"image": x["image"][:, :, None], "text": x["text"]})
    with pytest.raises(TypeError, match="head"):
        FusionNetwork({"image": VectorEncoder(4)}, "concat", lambda z: z)


def test_fit_and_predict_check_the_arrays_first():
    model = FusionNetwork(
        {"image": ImageEncoder(4, filters=(2,)), "caption": TokenEncoder(10, 4, units=4)},
        "concat",
        VectorDecoder(3, output_activation="softmax"),
    )
    model.compile("adam", loss={"label": "sparse_categorical_crossentropy"})
    rng = np.random.default_rng(0)
    x = {
        "image": rng.random((6, 8, 8, 3)).astype("float32"),
        "caption": rng.integers(0, 10, (6, 4)).astype("int32"),
    }
    with pytest.raises(ValueError, match="targets must have as many examples"):
        model.fit(x, {"label": np.zeros(5, int)}, verbose=0)
    with pytest.raises(ValueError, match="unknown modality 'audio'"):
        model.fit({**x, "audio": x["image"]}, {"label": np.zeros(6, int)}, verbose=0)
    with pytest.raises(ValueError, match=r"'caption'.*\[0, 10\)"):
        model.predict({**x, "caption": x["caption"] + 10}, verbose=0)
    with pytest.raises(TypeError, match="'caption'.*integer token ids"):
        model.evaluate(
            {**x, "caption": x["caption"].astype("float32")}, {"label": np.zeros(6, int)}, verbose=0
        )
