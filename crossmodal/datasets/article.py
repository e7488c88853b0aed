"""The source article's data: CIFAR-10 images and IMDB reviews, for readers online.

Both loaders fetch through Keras' own downloader and cache
(``keras.utils.get_file``, under ``~/.keras/datasets`` or ``cache_dir``),
using the same file names as ``keras.datasets``, and read the files
themselves so that any cached copy works. They return dicts of modalities
like the shapes world.

**Pairing policy: the two are unpaired.** CIFAR-10 image ``i`` and IMDB
review ``i`` have nothing to do with each other: 50,000 labelled photos and
25,000 film reviews were collected separately. ``pair_unrelated`` makes the
article's "combined" data set explicitly, by drawing a random review for
each image, so that nobody mistakes it for paired data. The code walkthrough
chapter measures what such text is worth.
"""

import json
import os
import pickle

import keras
import numpy as np

CIFAR10_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
IMDB_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
IMDB_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
IMDB_INDEX_FROM = 3  # ids 0-2 are padding, start and out-of-vocabulary, as in Keras
PAIRING = "unpaired"


def _datasets_dir(cache_dir):
    """Keras' download folder: ``$KERAS_HOME/datasets``, else ``~/.keras/datasets``."""
    home = cache_dir or os.environ.get("KERAS_HOME", os.path.join("~", ".keras"))
    return os.path.join(os.path.expanduser(home), "datasets")


def _fetch(name, what, cache_dir, **kwargs):
    """Download through Keras' cache, or explain what to do when that fails."""
    try:
        return keras.utils.get_file(name, cache_dir=cache_dir, **kwargs)
    except Exception as error:  # urllib raises several kinds; all mean "no file"
        raise RuntimeError(
            f"{what} is not in the Keras cache ({_datasets_dir(cache_dir)}) and could not be "
            f"downloaded from {kwargs['origin']}: {error}. Connect to the internet and run "
            f"again, or copy the file there from a machine that has it; the course's own "
            f"chapters use the shapes world, which needs no download."
        ) from error


def load_cifar10(cache_dir=None):
    """CIFAR-10 as ``(train, test)`` dicts of ``"image"`` and ``"label"``.

    Returns:
        Two dicts, the training and the test set, each with ``"image"``
        ``(n, 32, 32, 3)`` float32 in ``[0, 1]`` and ``"label"`` ``(n,)``
        int64 class ids (names in ``CIFAR10_CLASSES``);
        50,000 training and 10,000 test images for the real data.
    """
    folder = os.path.join(
        _datasets_dir(cache_dir), "cifar-10-batches-py-target", "cifar-10-batches-py"
    )
    if not os.path.isdir(folder):
        _fetch(
            "cifar-10-batches-py-target",
            "CIFAR-10",
            cache_dir,
            origin=CIFAR10_ORIGIN,
            extract=True,
            file_hash=CIFAR10_HASH,
        )

    def read(names):
        images, labels = [], []
        for name in names:
            with open(os.path.join(folder, name), "rb") as file:
                batch = pickle.load(file, encoding="bytes")
            images.append(np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32))
            labels.append(np.asarray(batch[b"labels"], np.int64))
        image = np.concatenate(images).transpose(0, 2, 3, 1).astype(np.float32) / 255.0
        return {"image": image, "label": np.concatenate(labels)}

    return read([f"data_batch_{i}" for i in range(1, 6)]), read(["test_batch"])


def load_imdb(sequence_length=256, num_words=10_000, cache_dir=None):
    """IMDB reviews as ``(train, test)`` dicts of ``"text"``, ``"tokens"`` and ``"label"``.

    Keras stores the reviews as word ids; here they are decoded to text and
    cut or padded (at the end, with 0) to ``sequence_length`` ids. Words
    outside the ``num_words`` most frequent become the out-of-vocabulary id 2.

    Returns:
        Two dicts, the training and the test set, each with ``"text"``
        ``(n,)`` decoded reviews, ``"tokens"`` ``(n, sequence_length)`` int32
        ids and ``"label"`` ``(n,)`` int64
        (1 = positive); 25,000 reviews each for the real data.
    """
    directory = _datasets_dir(cache_dir)
    data_path = os.path.join(directory, "imdb.npz")
    index_path = os.path.join(directory, "imdb_word_index.json")
    if not os.path.exists(data_path):
        _fetch("imdb.npz", "IMDB", cache_dir, origin=IMDB_ORIGIN + "imdb.npz", file_hash=IMDB_HASH)
    if not os.path.exists(index_path):
        _fetch(
            "imdb_word_index.json",
            "The IMDB word index",
            cache_dir,
            origin=IMDB_ORIGIN + "imdb_word_index.json",
        )
    with open(index_path) as file:
        words = {2: "[OOV]", **{i + IMDB_INDEX_FROM: w for w, i in json.load(file).items()}}
    with np.load(data_path, allow_pickle=True) as archive:  # Keras' own file format
        parts = {
            split: (archive[f"x_{split}"], archive[f"y_{split}"]) for split in ("train", "test")
        }

    def convert(reviews, labels):
        tokens = np.zeros((len(reviews), sequence_length), np.int32)
        texts = []
        for row, review in enumerate(reviews):
            ids = [i + IMDB_INDEX_FROM for i in review][:sequence_length]
            ids = [i if i < num_words else 2 for i in ids]
            tokens[row, : len(ids)] = ids
            texts.append(" ".join(words[i] for i in ids))
        return {
            "text": np.array(texts, dtype=object),
            "tokens": tokens,
            "label": np.asarray(labels, np.int64),
        }

    return tuple(convert(*parts[split]) for split in ("train", "test"))


def pair_unrelated(images, texts, *, seed=0):
    """The article's "combined" data: a random, meaningless text for every image.

    Args:
        images: dict of image modalities with ``n`` rows.
        texts: dict of text modalities with any number of rows.
        seed: which random texts are drawn.

    Returns:
        One dict holding ``images``' entries and, under the same keys as in
        ``texts`` (a key present in both raises ``ValueError``), ``n`` texts drawn
        at random: no row of text says anything about its image.
    """
    clash = set(images) & set(texts)
    if clash:
        raise ValueError(f"images and texts share the keys {sorted(clash)}; rename one side")
    n = len(next(iter(images.values())))
    pick = np.random.default_rng(seed).integers(0, len(next(iter(texts.values()))), size=n)
    return {**images, **{key: np.asarray(value)[pick] for key, value in texts.items()}}
