"""The checker of the code walkthrough's planted-bug exercise."""

import keras
import pytest

from crossmodal import runtime
from crossmodal.decoders import ImageDecoder, TokenDecoder
from crossmodal.encoders import ImageEncoder, TokenEncoder
from crossmodal.exercises import check_fixed_autoencoder
from crossmodal.models import MultimodalAutoencoder


def _builder(
    image_shape=(32, 32, 3), caption_loss="sparse_categorical_crossentropy", image_loss="mse"
):
    def build(vocabulary_size, sequence_length):
        runtime.seed_everything(0)
        model = MultimodalAutoencoder(
            {
                "image": ImageEncoder(8, filters=(4,)),
                "caption": TokenEncoder(vocabulary_size, 8, units=4, cell="lstm"),
            },
            {
                "image": ImageDecoder(image_shape, filters=(4,)),
                "caption": TokenDecoder(vocabulary_size, sequence_length, hidden=(8,)),
            },
            latent_dim=8,
        )
        model.compile("adam", loss={"image": image_loss, "caption": caption_loss})
        return model

    return build


def test_accepts_the_fixed_model(capsys):
    assert check_fixed_autoencoder(_builder()) is True
    assert "all checks passed" in capsys.readouterr().out


def test_accepts_loss_objects():
    build = _builder(
        caption_loss=keras.losses.SparseCategoricalCrossentropy(),
        image_loss=keras.losses.MeanSquaredError(),
    )
    assert check_fixed_autoencoder(build) is True


def test_rejects_a_decoder_of_the_wrong_shape():
    with pytest.raises(AssertionError, match="32x32x3"):
        check_fixed_autoencoder(_builder(image_shape=(64, 64, 3)))


def test_rejects_squared_error_on_tokens():
    with pytest.raises(AssertionError, match="caption loss"):
        check_fixed_autoencoder(_builder(caption_loss="mse"))


def test_rejects_a_wrong_image_loss():
    with pytest.raises(AssertionError, match="image loss"):
        check_fixed_autoencoder(_builder(image_loss="binary_crossentropy"))


def test_rejects_a_single_loss():
    def build(vocabulary_size, sequence_length):
        model = _builder()(vocabulary_size, sequence_length)
        model.compile("adam", loss="mse")
        return model

    with pytest.raises(AssertionError, match="dict of losses"):
        check_fixed_autoencoder(build)
