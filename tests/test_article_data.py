"""CIFAR-10 and IMDB loaders, tested offline on small files in the real on-disk formats."""

import json
import pickle

import keras
import numpy as np
import pytest

from crossmodal.datasets import load_cifar10, load_imdb, pair_unrelated


@pytest.fixture
def cifar_cache(tmp_path):
    """A CIFAR-10 cache with 4 images per batch, pickled like the original batches."""
    folder = tmp_path / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(4, 3072), dtype=np.uint8)
        data[0, :1024] = 255  # first image: red channel full, stored channels-first
        data[0, 1024:] = 0
        batch = {b"data": data, b"labels": [3, 1, 4, 1], b"batch_label": name.encode()}
        with open(folder / name, "wb") as file:
            pickle.dump(batch, file)
    return tmp_path


def test_loaders_default_to_the_keras_cache(cifar_cache, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(cifar_cache))
    train, _ = load_cifar10()
    assert train["image"].shape == (20, 32, 32, 3)


def test_cifar10_reads_the_cached_batches(cifar_cache):
    train, test = load_cifar10(cache_dir=str(cifar_cache))
    assert train["image"].shape == (20, 32, 32, 3) and test["image"].shape == (4, 32, 32, 3)
    assert train["image"].dtype == np.float32
    assert 0.0 <= train["image"].min() and train["image"].max() <= 1.0
    np.testing.assert_array_equal(train["image"][0, 5, 7], [1.0, 0.0, 0.0])  # channels last
    np.testing.assert_array_equal(test["label"], [3, 1, 4, 1])


@pytest.fixture
def imdb_cache(tmp_path):
    directory = tmp_path / "datasets"
    directory.mkdir()
    index = {"the": 1, "film": 2, "was": 3, "great": 4, "awful": 5}
    (directory / "imdb_word_index.json").write_text(json.dumps(index))
    # Keras' file: each review a list of word frequency ranks
    reviews = np.empty(3, dtype=object)
    reviews[:] = [[1, 2, 3, 4], [1, 2, 3, 5], [1, 2] * 10]
    np.savez(
        directory / "imdb.npz",
        x_train=reviews,
        y_train=np.array([1, 0, 1]),
        x_test=reviews[:2],
        y_test=np.array([1, 0]),
    )
    return tmp_path


def test_imdb_decodes_and_pads(imdb_cache):
    train, test = load_imdb(sequence_length=8, num_words=8, cache_dir=str(imdb_cache))
    assert train["tokens"].shape == (3, 8) and train["tokens"].dtype == np.int32
    assert train["text"][0] == "the film was great"
    np.testing.assert_array_equal(train["tokens"][0], [4, 5, 6, 7, 0, 0, 0, 0])
    assert train["tokens"][1, 3] == 2  # "awful" (id 8) is beyond num_words: out of vocabulary
    assert train["text"][1] == "the film was [OOV]"
    assert (train["tokens"][2] != 0).all()  # a long review is cut, not padded
    np.testing.assert_array_equal(test["label"], [1, 0])


def test_missing_download_says_what_to_do(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("URL fetch failure: no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(RuntimeError, match="could not be downloaded.*copy the file"):
        load_cifar10(cache_dir=str(tmp_path))
    with pytest.raises(RuntimeError, match="IMDB is not in the Keras cache"):
        load_imdb(cache_dir=str(tmp_path))


def test_pair_unrelated_is_explicit_and_seeded():
    images = {"image": np.arange(5)}
    texts = {"text": np.array(["a", "b", "c"])}
    first, again = pair_unrelated(images, texts, seed=1), pair_unrelated(images, texts, seed=1)
    assert len(first["text"]) == 5 and set(first["text"]) <= {"a", "b", "c"}
    np.testing.assert_array_equal(first["text"], again["text"])
    with pytest.raises(ValueError, match="share the keys"):
        pair_unrelated(images, {"image": np.arange(3)})
