"""Encoders, fusion layers and decoders: shapes, errors, save/load round trips."""

import keras
import numpy as np
import pytest

import crossmodal as cm
from crossmodal.decoders import VectorDecoder
from crossmodal.encoders import ImageEncoder, TokenEncoder, VectorEncoder
from crossmodal.fusion import ConcatFusion, MeanFusion

RNG = np.random.default_rng(0)
IMAGES = RNG.random((4, 32, 32, 3), dtype=np.float32)
TOKENS = np.array([[5, 6, 7, 0, 0], [3, 0, 0, 0, 0], [9, 9, 9, 9, 9], [2, 4, 0, 0, 0]])
VECTORS = RNG.random((4, 7), dtype=np.float32)


@pytest.mark.parametrize("layer, x", [
    (ImageEncoder(8), IMAGES),
    (TokenEncoder(12, 8), TOKENS),
    (TokenEncoder(12, 8, cell="lstm"), TOKENS),
    (VectorEncoder(8, hidden=(16, 16)), VECTORS),
])
def test_encoders_give_batch_by_dim(layer, x):
    assert tuple(layer(x).shape) == (4, 8)
    assert layer.compute_output_shape(x.shape) == (4, 8)


def test_token_encoder_ignores_padding():
    encoder = TokenEncoder(12, 8)
    short = encoder(np.array([[5, 6, 0, 0, 0]]))
    longer = encoder(np.array([[5, 6, 0, 0, 0, 0, 0, 0]]))
    np.testing.assert_allclose(short, longer, atol=1e-6)


@pytest.mark.parametrize("layer, bad, match", [
    (ImageEncoder(8, name="image"), np.zeros((2, 32, 32)), "'image': expected images"),
    (TokenEncoder(12, 8, name="caption"), np.zeros((2, 5, 1)), "'caption': expected token"),
    (VectorEncoder(8, name="tabular"), np.zeros((2, 3, 3)), "'tabular': expected vectors"),
    (VectorDecoder(3, name="head"), np.zeros((2, 3, 3)), "'head': expected latent"),
])
def test_wrong_rank_raises_value_error_naming_the_modality(layer, bad, match):
    with pytest.raises(ValueError, match=match):
        layer(bad)


def test_concat_fusion_orders_fills_missing_and_checks():
    a, b = np.ones((3, 2), np.float32), 2 * np.ones((3, 4), np.float32)
    fusion = ConcatFusion()
    out = np.asarray(fusion({"b": b, "a": a}))
    np.testing.assert_array_equal(out[0], [1, 1, 2, 2, 2, 2])  # sorted by name: a then b
    np.testing.assert_array_equal(np.asarray(fusion({"b": b}))[0], [0, 0, 2, 2, 2, 2])
    with pytest.raises(ValueError, match="unknown modality 'c'"):
        fusion({"c": a})
    with pytest.raises(ValueError, match="batch sizes differ"):
        fusion({"a": a, "b": b[:2]})
    with pytest.raises(ValueError, match="empty dict"):
        fusion({})
    with pytest.raises(ValueError, match="'a' was built with width 2"):
        fusion({"a": np.ones((3, 5), np.float32)})


def test_mean_fusion_averages_present_modalities():
    a, b = np.ones((2, 3), np.float32), 3 * np.ones((2, 3), np.float32)
    fusion = MeanFusion()
    np.testing.assert_allclose(fusion([a, b]), 2 * np.ones((2, 3)))
    np.testing.assert_allclose(fusion({"m1": b}), b)
    with pytest.raises(ValueError, match="equal widths"):
        MeanFusion()({"a": a, "b": np.ones((2, 4), np.float32)})
    with pytest.raises(ValueError, match="unknown fusion"):
        cm.fusion.get("sum-of-squares")


def _model():
    image = keras.Input((32, 32, 3), name="image")
    caption = keras.Input((5,), dtype="int32", name="caption")
    z = ConcatFusion(name="fuse")({
        "image": ImageEncoder(8, name="image_encoder")(image),
        "caption": TokenEncoder(12, 8, name="caption_encoder")(caption),
    })
    out = VectorDecoder(3, output_activation="softmax", name="head")(z)
    return keras.Model({"image": image, "caption": caption}, out)


def test_pieces_save_and_load_with_identical_outputs(tmp_path):
    model = _model()
    inputs = {"image": IMAGES, "caption": TOKENS}
    before = model.predict(inputs, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(inputs, verbose=0), before, atol=1e-6)
    assert isinstance(loaded.get_layer("fuse"), ConcatFusion)


def test_seeded_training_is_repeatable():
    def run():
        cm.runtime.seed_everything(1)
        model = _model()
        model.compile("adam", "sparse_categorical_crossentropy")
        history = model.fit({"image": IMAGES, "caption": TOKENS}, np.array([0, 1, 2, 0]),
                            epochs=3, verbose=0)
        return history.history["loss"]
    first, second = run(), run()
    assert first == second
    assert first[-1] < first[0]
