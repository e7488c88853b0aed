"""The Transformer, audio and spatial encoders, and the checks on token ids."""

import keras
import numpy as np
import pytest

import crossmodal  # noqa: F401  (sets the Keras backend)
from crossmodal.blocks import add_coordinates
from crossmodal.encoders import (
    MEL_SETTINGS,
    AudioEncoder,
    ImageEncoder,
    SpatialImageEncoder,
    TokenEncoder,
    TransformerTokenEncoder,
    VectorEncoder,
    mel_spectrogram_layer,
)


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


def _round_trip(layer, shape, x, path, dtype="float32"):
    """The layer's outputs on ``x`` after saving a model around it and loading it in safe mode."""
    inputs = keras.Input(shape, dtype=dtype)
    keras.Model(inputs, layer(inputs)).save(path)
    return keras.saving.load_model(path, safe_mode=True).predict(x, verbose=0)


def test_transformer_encoder_ignores_padding_and_round_trips(tmp_path):
    encoder = TransformerTokenEncoder(20, 8, sequence_length=12, num_heads=2, num_layers=2)
    assert len(encoder.attention) == 2
    short = np.array([[3, 4, 5, 0, 0, 0], [7, 8, 9, 10, 11, 2]])
    long = np.concatenate([short, np.zeros((2, 6), int)], axis=1)
    a, b = np.asarray(encoder(short)), np.asarray(encoder(long))
    assert a.shape == (2, 8)
    np.testing.assert_allclose(a, b, atol=1e-5)
    changed = np.asarray(encoder(np.array([[3, 4, 6, 0, 0, 0], [7, 8, 9, 10, 11, 2]])))
    assert not np.allclose(changed[0], a[0])
    np.testing.assert_allclose(changed[1], a[1], atol=1e-5)  # rows are independent
    loaded = _round_trip(encoder, (12,), long, tmp_path / "t.keras", dtype="int32")
    np.testing.assert_allclose(loaded, b, atol=1e-5)


def test_transformer_encoder_rejects_bad_shapes_and_arguments():
    encoder = TransformerTokenEncoder(20, 8, sequence_length=12)
    with pytest.raises(ValueError, match="at most 12 tokens"):
        encoder(np.zeros((2, 13), int))
    with pytest.raises(ValueError, match="token ids"):
        encoder(np.zeros((2, 3, 4), int))
    with pytest.raises(ValueError, match="num_heads must divide embedding_dim"):
        TransformerTokenEncoder(20, 8, sequence_length=12, num_heads=3, embedding_dim=32)


@pytest.mark.parametrize(
    "make",
    [
        lambda: TokenEncoder(10, 4, units=4),
        lambda: TransformerTokenEncoder(10, 4, sequence_length=5),
    ],
    ids=["recurrent", "transformer"],
)
def test_token_encoders_reject_non_integer_ids_and_ids_outside_the_vocabulary(make):
    encoder = make()
    with pytest.raises(TypeError, match="integer token ids"):
        encoder(np.ones((2, 5), "float32"))
    encoder.check_inputs(np.array([[0, 9, 3, 0, 1]]))  # padding to the last id: fine
    for bad in (10, -1):
        with pytest.raises(ValueError, match=r"in \[0, 10\)"):
            encoder.check_inputs(np.array([[1, bad, 0, 0, 0]]))


def test_vector_encoder_dropout_follows_its_seed():
    x = np.ones((4, 6), "float32")
    reference = VectorEncoder(3, hidden=(32,))
    reference.build(x.shape)

    def encoded(seed, training=True):
        encoder = VectorEncoder(3, hidden=(32,), dropout=0.5, seed=seed)
        encoder.build(x.shape)
        encoder.set_weights(reference.get_weights())
        return np.asarray(encoder(x, training=training))

    np.testing.assert_array_equal(encoded(3), encoded(3))
    assert not np.allclose(encoded(3), encoded(4))
    np.testing.assert_allclose(encoded(3, training=False), np.asarray(reference(x)), atol=1e-6)


def test_image_encoder_has_one_convolution_per_filter():
    encoder = ImageEncoder(4, filters=(3, 5, 7))
    assert [c.filters for c in encoder.convs] == [3, 5, 7]
    assert tuple(encoder(np.zeros((2, 16, 16, 3), "float32")).shape) == (2, 4)


def test_spatial_encoder_keeps_the_layout_and_appends_coordinates(tmp_path):
    images = np.random.default_rng(0).random((2, 16, 16, 3)).astype("float32")
    encoder = SpatialImageEncoder((4, 6), coordinates=True)
    maps = np.asarray(encoder(images))
    assert maps.shape == (2, 4, 4, 8) == encoder.compute_output_shape(images.shape)
    grid = np.asarray(add_coordinates(np.zeros((2, 4, 4, 0), "float32")))
    np.testing.assert_array_equal(maps[..., -2:], grid)
    plain = SpatialImageEncoder((4,), coordinates=False)
    assert tuple(plain(images).shape) == (2, 8, 8, 4)
    passed = np.asarray(SpatialImageEncoder((), coordinates=True)(images))
    np.testing.assert_array_equal(passed[..., :3], images)
    loaded = _round_trip(encoder, (16, 16, 3), images, tmp_path / "s.keras")
    np.testing.assert_allclose(loaded, maps, atol=1e-5)


def test_coordinates_run_from_minus_one_to_one():
    out = np.asarray(add_coordinates(np.zeros((2, 3, 5, 1), "float32")))
    assert out.shape == (2, 3, 5, 3)
    np.testing.assert_allclose(out[0, 0, :, 1], np.linspace(-1, 1, 5))  # x along columns
    np.testing.assert_allclose(out[1, :, 0, 2], np.linspace(-1, 1, 3))  # y along rows


def test_mel_spectrogram_layer_shape_follows_its_arguments():
    waves = np.zeros((3, 2000), "float32")
    spec = mel_spectrogram_layer()(waves)
    assert tuple(spec.shape) == (3, MEL_SETTINGS["num_mel_bins"], 1 + 2000 // 64)
    assert tuple(mel_spectrogram_layer(16000, num_mel_bins=20)(waves).shape) == (3, 20, 32)
    with pytest.raises(ValueError, match="sampling_rate"):
        mel_spectrogram_layer(0)


def test_audio_encoder_shapes_and_precomputed_spectrogram(tmp_path):
    waves = np.random.default_rng(0).normal(0, 0.3, (3, 2000)).astype("float32")
    encoder = AudioEncoder(7, sampling_rate=8000, num_mel_bins=32)
    out = np.asarray(encoder(waves))
    assert out.shape == (3, 7)
    spec = mel_spectrogram_layer(8000, 32)(waves)
    from_spec = AudioEncoder(7, waveform=False)
    from_spec(spec)
    from_spec.set_weights(encoder.get_weights())
    np.testing.assert_allclose(np.asarray(from_spec(spec)), out, atol=1e-5)
    loaded = _round_trip(encoder, (2000,), waves, tmp_path / "a.keras")
    np.testing.assert_allclose(loaded, out, atol=1e-5)
    with pytest.raises(ValueError, match="waveforms"):
        encoder(np.zeros((2, 10, 3), "float32"))


def test_plotted_spectrogram_is_the_encoders_transform():
    from crossmodal import plot

    waves = np.random.default_rng(1).normal(0, 0.3, (2, 2000)).astype("float32")
    spec = plot.mel_spectrogram(waves, sampling_rate=8000, num_mel_bins=20)
    assert spec.shape == (2, 20, 32)
    np.testing.assert_allclose(spec, np.asarray(mel_spectrogram_layer(8000, 20)(waves)), atol=1e-5)
