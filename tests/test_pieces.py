"""Encoders, fusion layers and decoders: shapes, errors, save/load round trips."""

import keras
import numpy as np
import pytest

import crossmodal as cm
from crossmodal.decoders import ImageDecoder, TokenDecoder, VectorDecoder
from crossmodal.encoders import ImageEncoder, TokenEncoder, TransformerTokenEncoder, VectorEncoder
from crossmodal.fusion import ConcatFusion

RNG = np.random.default_rng(0)
IMAGES = RNG.random((4, 32, 32, 3), dtype=np.float32)
TOKENS = np.array([[5, 6, 7, 0, 0], [3, 0, 0, 0, 0], [9, 9, 9, 9, 9], [2, 4, 0, 0, 0]])
VECTORS = RNG.random((4, 7), dtype=np.float32)


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


@pytest.mark.parametrize(
    "make, x",
    [
        (lambda: ImageEncoder(8), IMAGES),
        (lambda: TokenEncoder(12, 8), TOKENS),
        (lambda: TokenEncoder(12, 8, cell="lstm"), TOKENS),
        (lambda: TransformerTokenEncoder(12, 8, sequence_length=5), TOKENS),
        (lambda: VectorEncoder(8, hidden=(16, 16)), VECTORS),
    ],
    ids=["image", "gru", "lstm", "transformer", "vector"],
)
def test_encoders_give_batch_by_dim(make, x):
    layer = make()
    assert tuple(layer(x).shape) == (4, 8)
    assert layer.compute_output_shape(x.shape) == (4, 8)


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: VectorDecoder(6, hidden=(5,)), (4, 6)),
        (lambda: ImageDecoder((8, 16, 2), filters=(4, 4)), (4, 8, 16, 2)),
        (lambda: TokenDecoder(11, 6, hidden=(5,)), (4, 6, 11)),
    ],
    ids=["vector", "image", "token"],
)
def test_decoders_output_and_compute_output_shape_agree(make, shape):
    layer = make()
    assert tuple(layer(VECTORS).shape) == shape
    assert tuple(layer.compute_output_shape(VECTORS.shape)) == shape


def test_token_encoder_ignores_padding():
    encoder = TokenEncoder(12, 8)
    short = encoder(np.array([[5, 6, 0, 0, 0]]))
    longer = encoder(np.array([[5, 6, 0, 0, 0, 0, 0, 0]]))
    np.testing.assert_allclose(short, longer, atol=1e-6)


@pytest.mark.parametrize(
    "make, bad, match",
    [
        (lambda: ImageEncoder(8, name="image"), np.zeros((2, 32, 32)), "'image': expected images"),
        (
            lambda: TokenEncoder(12, 8, name="caption"),
            np.zeros((2, 5, 1), int),
            "'caption': expected token",
        ),
        (
            lambda: VectorEncoder(8, name="tabular"),
            np.zeros((2, 3, 3)),
            "'tabular': expected vectors",
        ),
        (lambda: VectorDecoder(3, name="head"), np.zeros((2, 3, 3)), "'head': expected latent"),
        (lambda: ImageDecoder(name="pixels"), np.zeros((2, 3, 3)), "'pixels': expected latent"),
    ],
)
def test_wrong_rank_raises_value_error_naming_the_layer(make, bad, match):
    with pytest.raises(ValueError, match=match):
        make()(bad)


def test_fusion_checks_the_dict_it_is_given():
    a, b = np.ones((3, 2), np.float32), 2 * np.ones((3, 4), np.float32)
    fusion = ConcatFusion()
    fusion({"b": b, "a": a})
    with pytest.raises(ValueError, match="unknown modality 'c'"):
        fusion({"c": a})
    with pytest.raises(ValueError, match="batch sizes differ"):
        fusion({"a": a, "b": b[:2]})
    with pytest.raises(ValueError, match="empty dict"):
        fusion({})
    with pytest.raises(ValueError, match="'a' was built with width 2"):
        fusion({"a": np.ones((3, 5), np.float32)})


def _model():
    image = keras.Input((32, 32, 3), name="image")
    caption = keras.Input((5,), dtype="int32", name="caption")
    z = ConcatFusion(name="fuse")(
        {
            "image": ImageEncoder(8, name="image_encoder")(image),
            "caption": TokenEncoder(12, 8, name="caption_encoder")(caption),
        }
    )
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
        history = model.fit(
            {"image": IMAGES, "caption": TOKENS}, np.array([0, 1, 2, 0]), epochs=3, verbose=0
        )
        return history.history["loss"]

    first, second = run(), run()
    assert first == second
    assert first[-1] < first[0]
