"""Helpers that work on any dict of modalities: subsets, splits, ``tf.data``.

A *dict of modalities* maps names to arrays that share their first (batch)
axis; nested dicts (such as the shapes world's ``"scene"``) are followed.
"""

import numpy as np
import tensorflow as tf


def _length(data):
    lengths = {}
    for name, value in data.items():
        lengths[name] = _length(value) if isinstance(value, dict) else len(value)
    if len(set(lengths.values())) > 1:
        raise ValueError(f"all modalities must have the same length; got {lengths}")
    if not lengths:
        raise ValueError("expected a non-empty dict of modalities")
    return next(iter(lengths.values()))


def subset(data, index):
    """The rows ``index`` (an int array, slice or boolean mask) of every modality."""
    return {k: subset(v, index) if isinstance(v, dict) else np.asarray(v)[index]
            for k, v in data.items()}


def split(data, fractions=(0.8, 0.2), seed=0):
    """Shuffle the rows once with ``seed`` and cut them into parts of the given fractions.

    Returns a tuple of dicts of modalities, one per fraction (fractions must sum to 1).
    """
    if any(f <= 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must be positive and sum to 1; got {fractions}")
    n = _length(data)
    order = np.random.default_rng(seed).permutation(n)
    cuts = np.round(np.cumsum(fractions)[:-1] * n).astype(int)
    return tuple(subset(data, part) for part in np.split(order, cuts))


def to_dataset(inputs, targets=None, *, batch_size=64, shuffle=True, seed=0, cache=True):
    """A batched, prefetched ``tf.data.Dataset`` of ``(inputs, targets)`` dicts.

    Args:
        inputs: dict of modality arrays (``(n, ...)`` each).
        targets: optional dict (or array) of targets with the same ``n``.
        batch_size: examples per batch.
        shuffle: reshuffle every epoch with a seeded buffer holding all rows.
        seed: shuffle seed, for repeatable epochs.
        cache: keep the converted tensors in memory after the first epoch.
    """
    n = _length(inputs if targets is None else {"inputs": inputs, "targets": targets})
    element = inputs if targets is None else (inputs, targets)
    ds = tf.data.Dataset.from_tensor_slices(element)
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def stream(make, n, *, chunk=8192, seed=0, batch_size=64):
    """A ``tf.data.Dataset`` of ``n`` examples generated ``chunk`` at a time.

    For data sets larger than memory comfortably holds (the full profile on a
    GPU): only one chunk exists at a time, made by ``make(size, seed)``, which
    must return an ``(inputs, targets)`` pair of dicts of arrays. Chunk ``i``
    uses seed ``seed + i``, so the stream is repeatable; batches are shuffled
    within each chunk and prefetched.
    """
    if n < 1 or chunk < 1:
        raise ValueError(f"n and chunk must be >= 1; got n={n}, chunk={chunk}")
    sizes = [min(chunk, n - start) for start in range(0, n, chunk)]
    first = make(1, seed)
    signature = tf.nest.map_structure(
        lambda a: tf.TensorSpec((None,) + np.asarray(a).shape[1:], tf.as_dtype(np.asarray(a).dtype)),
        first)

    def chunks():
        for i, size in enumerate(sizes):
            yield make(size, seed + i)

    ds = tf.data.Dataset.from_generator(chunks, output_signature=signature)
    ds = ds.flat_map(lambda x, y: tf.data.Dataset.from_tensor_slices((x, y)).shuffle(chunk, seed=seed))
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def indexed_dataset(shared, index, inputs, targets=None, *, batch_size=64, shuffle=True,
                    seed=0):
    """A batched ``tf.data.Dataset`` whose examples share rows of ``shared`` arrays.

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
    n = _length({"index": np.asarray(index), "inputs": inputs,
                 **({} if targets is None else {"targets": targets})})
    tables = {k: tf.constant(v) for k, v in shared.items()}
    element = (index, inputs) if targets is None else (index, inputs, targets)
    ds = tf.data.Dataset.from_tensor_slices(element)
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)

    def gather(rows, own, *rest):
        batch = {**{k: tf.gather(t, rows) for k, t in tables.items()}, **own}
        return (batch, *rest) if rest else batch

    return ds.batch(batch_size).map(gather).prefetch(tf.data.AUTOTUNE)
