"""Attribution: which parts of one modality a model's decision rests on.

Both methods here need nothing but forward passes, so they work for any model
that takes a dict of modalities and returns class probabilities: hide a part of
one modality, keep the others, and record how much the probability of the
class being explained drops.

* ``occlusion_map``: slide a patch of constant value over an image
  (Zeiler and Fergus, 2014); ``(n, height, width)`` maps.
* ``token_importance``: replace each token of a sequence by padding, one at a
  time; ``(n, length)`` scores. For encoders that mask padding (the course's
  ``TokenEncoder`` skips padded steps) this is deleting the token.

Taught in the chapter "Frontiers and challenges". ``pair_importance`` opens a
Relation Network instead: which pairs of cells its answer rests on (the
chapter "Cross-modal reasoning").
"""

import keras
import numpy as np
from keras import ops

from crossmodal.fusion import RelationFusion
from crossmodal.validation import check_modalities, check_rank


def _as_dict(inputs, modality, owner):
    """The inputs as a dict of NumPy arrays, checked: ``modality`` present, equal batches."""
    inputs = check_modalities(inputs, owner=owner)
    if modality not in inputs:
        raise ValueError(f"{owner}: modality {modality!r} is not among the inputs {sorted(inputs)}")
    return {name: np.asarray(x) for name, x in inputs.items()}


def _probabilities(model, inputs, output, batch_size):
    """``(n, classes)`` NumPy probabilities of ``model`` on a dict of arrays, in batches."""
    n = len(next(iter(inputs.values())))
    parts = []
    for start in range(0, n, batch_size):
        out = model({name: x[start : start + batch_size] for name, x in inputs.items()})
        if isinstance(out, dict):
            if output is None:
                if len(out) != 1:
                    raise ValueError(f"the model returns {sorted(out)}: name one with output=")
                output = next(iter(out))
            if output not in out:
                raise ValueError(
                    f"output {output!r} is not among the model's outputs {sorted(out)}"
                )
            out = out[output]
        parts.append(np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float64))
    probabilities = np.concatenate(parts)
    if probabilities.ndim != 2 or len(probabilities) != n:
        raise ValueError(
            f"the model must return (batch, classes) probabilities; got shape {probabilities.shape}"
        )
    return probabilities


def _targets(probabilities, target):
    """The class explained for each example: the predicted one unless given."""
    n, classes = probabilities.shape
    if target is None:
        return probabilities.argmax(axis=1)
    target = (
        np.broadcast_to(np.asarray(target), (n,)) if np.ndim(target) == 0 else np.asarray(target)
    )
    if target.shape != (n,) or not np.issubdtype(target.dtype, np.integer):
        raise ValueError(f"target must be an integer or ({n},) integers; got {target!r}")
    if target.min() < 0 or target.max() >= classes:
        raise ValueError(f"target classes must lie in [0, {classes}); got {target.tolist()}")
    return target


def _drops(model, inputs, i, modality, copies, base, target, output, batch_size):
    """``p(target | example i) - p(target | each copy)``: ``copies`` replace ``modality``
    of example ``i``, its other modalities repeated alongside."""
    batch = {
        name: copies if name == modality else np.repeat(x[i : i + 1], len(copies), axis=0)
        for name, x in inputs.items()
    }
    return base[i, target[i]] - _probabilities(model, batch, output, batch_size)[:, target[i]]


def _starts(size, patch, stride):
    """Patch offsets along one axis: every ``stride``, the last one flush with the edge."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return starts


def occlusion_map(
    model,
    inputs,
    modality="image",
    patch=8,
    stride=4,
    fill=0.5,
    target=None,
    output=None,
    batch_size=256,
):
    """Drop in a class's probability when a square patch of an image is hidden.

    For every position of a ``patch x patch`` square (moved by ``stride``
    pixels, the last row and column of positions flush with the edges), the
    square is painted with ``fill`` in every channel, the other modalities are
    kept, and the drop ``p(target | inputs) - p(target | occluded inputs)`` is
    recorded. A pixel's value is the mean drop over the positions that cover it.

    Args:
        model: callable on a dict of modalities returning ``(batch, classes)``
            probabilities or a dict holding them (e.g. a ``FusionNetwork``).
        inputs: dict of modality arrays, each with ``n`` examples.
        modality: the image modality to occlude, ``(n, height, width, channels)``.
        patch: side of the square in pixels, from 1 to the image's shorter side.
        stride: step between patch positions in pixels (>= 1).
        fill: value painted into the square (0.5: mid grey on ``[0, 1]`` images).
        target: class to explain, an int or ``(n,)`` ints; ``None``: the class
            the model predicts for the unoccluded inputs.
        output: key of the probabilities when the model returns a dict with
            several entries.
        batch_size: occluded copies scored per model call.

    Returns:
        ``(n, height, width)`` float32 maps; positive where hiding the pixels
        lowers the probability of the target class.

    Raises:
        ValueError: on a missing modality, an image that is not rank 4, a patch
            or stride out of range, or a bad target.
    """
    inputs = _as_dict(inputs, modality, "occlusion_map")
    images = inputs[modality]
    check_rank(images.shape, 4, what=modality, expected="images (batch, height, width, channels)")
    n, height, width = images.shape[:3]
    if not isinstance(patch, (int, np.integer)) or not 1 <= patch <= min(height, width):
        raise ValueError(f"patch must be an integer from 1 to {min(height, width)}; got {patch!r}")
    if not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ValueError(f"stride must be a positive integer; got {stride!r}")
    base = _probabilities(model, inputs, output, batch_size)
    target = _targets(base, target)
    positions = [
        (top, left)
        for top in _starts(height, patch, stride)
        for left in _starts(width, patch, stride)
    ]
    maps = np.zeros((n, height, width), np.float64)
    counts = np.zeros((height, width), np.float64)
    for top, left in positions:
        counts[top : top + patch, left : left + patch] += 1
    for i in range(n):
        copies = np.repeat(images[i : i + 1], len(positions), axis=0)
        for k, (top, left) in enumerate(positions):
            copies[k, top : top + patch, left : left + patch, :] = fill
        drops = _drops(model, inputs, i, modality, copies, base, target, output, batch_size)
        for drop, (top, left) in zip(drops, positions):
            maps[i, top : top + patch, left : left + patch] += drop
    return (maps / counts).astype(np.float32)


def token_importance(
    model, inputs, modality="caption", pad=0, target=None, output=None, batch_size=256
):
    """Drop in a class's probability when each token of a sequence is removed.

    Each non-padding token is replaced by ``pad`` in turn (the other tokens and
    modalities kept) and the drop ``p(target | inputs) - p(target | without the
    token)`` is recorded. Padding positions score 0.

    Args:
        model: callable on a dict of modalities returning ``(batch, classes)``
            probabilities or a dict holding them.
        inputs: dict of modality arrays, each with ``n`` examples.
        modality: the token modality, ``(n, length)`` integer ids.
        pad: the padding id (masked by the course's token encoders).
        target: class to explain, an int or ``(n,)`` ints; ``None``: the
            predicted class.
        output: key of the probabilities when the model returns several.
        batch_size: copies scored per model call.

    Returns:
        ``(n, length)`` float32 scores; positive where removing the token
        lowers the probability of the target class.

    Raises:
        ValueError: on a missing modality, tokens that are not ``(n, length)``
            integers, or a bad target.
    """
    inputs = _as_dict(inputs, modality, "token_importance")
    tokens = inputs[modality]
    check_rank(tokens.shape, 2, what=modality, expected="token ids (batch, length)")
    if not np.issubdtype(tokens.dtype, np.integer):
        raise TypeError(f"modality {modality!r} must hold integer token ids; got {tokens.dtype}")
    base = _probabilities(model, inputs, output, batch_size)
    target = _targets(base, target)
    scores = np.zeros(tokens.shape, np.float64)
    for i in range(len(tokens)):
        where = np.nonzero(tokens[i] != pad)[0]
        if len(where) == 0:
            continue
        copies = np.repeat(tokens[i : i + 1], len(where), axis=0)
        copies[np.arange(len(where)), where] = pad
        scores[i, where] = _drops(
            model, inputs, i, modality, copies, base, target, output, batch_size
        )
    return scores.astype(np.float32)


def pair_importance(model, inputs):
    """How much each pair of cells supports a Relation Network's answer: ``(batch, cells, cells)``.

    ``model`` is a ``FusionNetwork`` whose fusion layer is a ``RelationFusion``
    (``crossmodal.models.reasoning.relation_network``). Entry ``(i, j)`` is
    ``p(a) - p(a | pair (i, j) left out of the sum)`` for the answer ``a`` the
    model gives: the drop in its probability when ``g(o_i, o_j, q)`` is removed
    from the sum the head reads. Positive pairs support the answer; the cells
    are in row-major order of the feature map. Taught in the chapter
    "Cross-modal reasoning".

    Raises:
        TypeError: if the model's fusion layer is not a ``RelationFusion``.
    """
    fusion = getattr(model, "fusion", None)
    if not isinstance(fusion, RelationFusion) or getattr(model, "head", None) is None:
        raise TypeError(
            "pair_importance needs a FusionNetwork with a RelationFusion and a head; "
            f"got {type(model).__name__} with fusion {type(fusion).__name__}"
        )
    codes, _ = model.encoder.codes(inputs, training=False)
    relations = fusion.relations(codes)  # (batch, cells, cells, units)
    batch, cells, units = ops.shape(relations)[0], relations.shape[1], relations.shape[-1]
    total = ops.sum(relations, axis=(1, 2))
    probs = model.head(total)
    answer = ops.argmax(probs, axis=-1)
    given = ops.take_along_axis(probs, answer[:, None], axis=-1)  # (batch, 1)
    without = total[:, None, None, :] - relations  # (batch, cells, cells, units)
    left_out = ops.reshape(
        model.head(ops.reshape(without, (-1, units))), (batch, cells * cells, -1)
    )
    kept = ops.take_along_axis(left_out, answer[:, None, None], axis=-1)[..., 0]
    return ops.convert_to_numpy(ops.reshape(given - kept, (batch, cells, cells)))
