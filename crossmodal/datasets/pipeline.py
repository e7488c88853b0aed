"""Helpers that work on any dict of modalities: subsets, splits and batches.

A *dict of modalities* maps names to arrays that share their first (batch)
axis; nested dicts (such as the shapes world's ``"scene"``) are followed.
Batches come as ``keras.utils.PyDataset`` objects, which ``fit``, ``evaluate``
and ``predict`` accept on every Keras backend; they are made in NumPy, one
batch at a time, and reshuffled every epoch from a seed.
"""

import math

import keras
import numpy as np


def _length(data, what="modalities"):
    if not isinstance(data, dict) or not data:
        raise ValueError(f"expected a non-empty dict of {what}; got {type(data).__name__}")
    lengths = {}
    for name, value in data.items():
        lengths[name] = _length(value, what) if isinstance(value, dict) else len(value)
    if len(set(lengths.values())) > 1:
        raise ValueError(f"all {what} must have the same length; got {lengths}")
    return next(iter(lengths.values()))


def _check_batching(batch_size, seed):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be an integer; got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer; got {seed!r}")


def subset(data, index):
    """The rows ``index`` (an int array, slice or boolean mask) of every modality."""
    return {
        k: subset(v, index) if isinstance(v, dict) else np.asarray(v)[index]
        for k, v in data.items()
    }


def split(data, fractions=(0.8, 0.2), *, seed=0):
    """Shuffle the rows once with ``seed`` and cut them into parts of the given fractions.

    Returns a tuple of dicts of modalities, one per fraction (fractions must
    be positive and sum to 1).
    """
    if any(f <= 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must be positive and sum to 1; got {fractions}")
    n = _length(data)
    order = np.random.default_rng(seed).permutation(n)
    cuts = np.round(np.cumsum(fractions)[:-1] * n).astype(int)
    return tuple(subset(data, part) for part in np.split(order, cuts))


class Batches(keras.utils.PyDataset):
    """Batches of ``(inputs, targets)`` dicts, reshuffled every epoch from a seed.

    The base of ``to_dataset``, ``indexed_dataset`` and ``stream``: a
    subclass says how to make the rows of one batch (``rows``), and this class
    orders them. Epoch ``e`` visits the examples in the order of
    ``numpy.random.default_rng([seed, e]).permutation(n)``, so a run repeats
    exactly; with ``shuffle=False`` the order is ``0, 1, ..., n - 1``.
    """

    def __init__(self, n, *, batch_size, shuffle, seed):
        super().__init__()
        _check_batching(batch_size, seed)
        if n < 1:
            raise ValueError(f"a data set needs at least one example; got {n}")
        self.n, self.batch_size, self.shuffle, self.seed = n, int(batch_size), shuffle, int(seed)
        self.epoch = 0
        self.order = self._order()

    def _order(self):
        if not self.shuffle:
            return np.arange(self.n)
        return np.random.default_rng([self.seed, self.epoch]).permutation(self.n)

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range for {len(self)} batches")
        return self.rows(self.order[index * self.batch_size : (index + 1) * self.batch_size])

    def on_epoch_end(self):
        self.epoch += 1
        self.order = self._order()

    def rows(self, index):
        """The ``(inputs, targets)`` (or ``inputs`` alone) of the examples ``index``."""
        raise NotImplementedError


class _ArrayBatches(Batches):
    def __init__(self, inputs, targets, *, batch_size, shuffle, seed):
        n = _length(inputs if targets is None else {"inputs": inputs, "targets": targets})
        super().__init__(n, batch_size=batch_size, shuffle=shuffle, seed=seed)
        self.inputs, self.targets = inputs, targets

    def rows(self, index):
        inputs = subset(self.inputs, index)
        if self.targets is None:
            return (inputs,)
        targets = (
            subset(self.targets, index)
            if isinstance(self.targets, dict)
            else np.asarray(self.targets)[index]
        )
        return inputs, targets


def to_dataset(inputs, targets=None, *, batch_size=64, shuffle=True, seed=0):
    """Batches of ``(inputs, targets)`` for ``fit``, on any backend.

    Args:
        inputs: dict of modality arrays (``(n, ...)`` each).
        targets: optional dict (or array) of targets with the same ``n``.
        batch_size: examples per batch (the last batch may be smaller).
        shuffle: reshuffle every epoch (from ``seed``).
        seed: shuffle seed, for repeatable epochs.

    Returns:
        A ``Batches`` (a ``keras.utils.PyDataset``).
    """
    return _ArrayBatches(inputs, targets, batch_size=batch_size, shuffle=shuffle, seed=seed)


class _IndexedBatches(Batches):
    def __init__(self, shared, index, inputs, targets, *, batch_size, shuffle, seed):
        self.index = np.asarray(index)
        if self.index.ndim != 1 or not np.issubdtype(self.index.dtype, np.integer):
            raise ValueError(
                f"index must be a 1-D array of integers; got shape "
                f"{self.index.shape} and dtype {self.index.dtype}"
            )
        items = _length(shared, "shared arrays")
        if self.index.size and (self.index.min() < 0 or self.index.max() >= items):
            raise ValueError(
                f"index must lie in [0, {items}); got values from "
                f"{self.index.min()} to {self.index.max()}"
            )
        n = _length(
            {
                "index": self.index,
                "inputs": inputs,
                **({} if targets is None else {"targets": targets}),
            }
        )
        super().__init__(n, batch_size=batch_size, shuffle=shuffle, seed=seed)
        self.shared = {k: np.asarray(v) for k, v in shared.items()}
        self.inputs, self.targets = inputs, targets

    def rows(self, index):
        batch = {
            **{k: v[self.index[index]] for k, v in self.shared.items()},
            **subset(self.inputs, index),
        }
        if self.targets is None:
            return (batch,)
        targets = (
            subset(self.targets, index)
            if isinstance(self.targets, dict)
            else np.asarray(self.targets)[index]
        )
        return batch, targets


def indexed_dataset(shared, index, inputs, targets=None, *, batch_size=64, shuffle=True, seed=0):
    """Batches whose examples share rows of ``shared`` arrays, on any backend.

    For many examples about few items (many questions per image): example
    ``i`` reads row ``index[i]`` of every array in ``shared`` and row ``i``
    of ``inputs``; the shared arrays are stored once and gathered per batch.

    Args:
        shared: dict of ``(m, ...)`` arrays (e.g. ``{"image": images}``).
        index: ``(n,)`` ints in ``[0, m)``.
        inputs: dict of ``(n, ...)`` arrays (e.g. ``{"question": codes}``).
        targets: optional dict (or array) of ``(n, ...)`` targets.
        batch_size, shuffle, seed: as in ``to_dataset``.
    """
    return _IndexedBatches(
        shared, index, inputs, targets, batch_size=batch_size, shuffle=shuffle, seed=seed
    )


class _StreamBatches(Batches):
    def __init__(self, make, n, *, chunk, batch_size, seed):
        if n < 1 or chunk < 1:
            raise ValueError(f"n and chunk must be >= 1; got n={n}, chunk={chunk}")
        if chunk % batch_size:
            raise ValueError(
                f"chunk must be a multiple of batch_size; got chunk={chunk}, "
                f"batch_size={batch_size}"
            )
        super().__init__(n, batch_size=batch_size, shuffle=False, seed=seed)
        self.make, self.chunk = make, chunk
        self.current, self.made = None, None

    def rows(self, index):
        number = index[0] // self.chunk  # batches never straddle two chunks
        if self.current != (number, self.epoch):
            size = min(self.chunk, self.n - number * self.chunk)
            inputs, targets = self.make(size, self.seed + number)
            order = np.random.default_rng([self.seed, number, self.epoch]).permutation(size)
            self.made = (
                subset(inputs, order),
                subset(targets, order) if isinstance(targets, dict) else np.asarray(targets)[order],
            )
            self.current = (number, self.epoch)
        inputs, targets = self.made
        local = index - number * self.chunk
        return subset(inputs, local), (
            subset(targets, local) if isinstance(targets, dict) else targets[local]
        )


def stream(make, n, *, chunk=8192, seed=0, batch_size=64):
    """Batches of ``n`` examples generated ``chunk`` at a time, on any backend.

    For data sets larger than memory comfortably holds (the full profile on a
    GPU): only one chunk exists at a time, made by ``make(size, seed)``, which
    must return an ``(inputs, targets)`` pair of dicts of arrays. Chunk ``i``
    uses seed ``seed + i``, so the stream is repeatable; the examples of a
    chunk are shuffled anew every epoch. ``chunk`` must be a multiple of
    ``batch_size``.
    """
    return _StreamBatches(make, n, chunk=chunk, batch_size=batch_size, seed=seed)
