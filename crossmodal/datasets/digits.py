"""Two-view handwritten digits, after the noisy MNIST protocol of Wang et al. (2015).

Real data, offline: scikit-learn's bundled 8x8 digits, upsampled to 16x16.
Every example has two views of the same class:

* ``"view1"``: the digit rotated by an angle drawn uniformly in
  ``[-max_angle, max_angle]`` degrees;
* ``"view2"``: a *different* image of the same class (from the same split)
  with independent uniform noise in ``[0, noise]`` added to every pixel,
  clipped to ``[0, 1]``.

The two views share only the class, so a representation that captures what
they have in common captures the digit. The chapter "Cross-modal mapping and
alignment" learns such representations with CCA and a dual encoder.
"""

import numpy as np
from scipy import ndimage

from crossmodal.datasets.pipeline import split


def _upsample(images, size):
    """``(n, 8, 8)`` in [0, 16] -> ``(n, size, size)`` in [0, 1], bilinear."""
    zoom = size / images.shape[1]
    out = ndimage.zoom(images / 16.0, (1, zoom, zoom), order=1)
    return np.clip(out, 0.0, 1.0)


def _rotate(images, degrees):
    """Rotate every ``(size, size)`` image about its centre by its own angle, at once."""
    n, size, _ = images.shape
    theta = np.deg2rad(degrees)[:, None, None]
    centre = (size - 1) / 2.0
    rows, cols = np.meshgrid(np.arange(size) - centre, np.arange(size) - centre, indexing="ij")
    # the output pixel (r, c) samples the input at the inverse rotation of (r, c)
    src_r = np.cos(theta) * rows - np.sin(theta) * cols + centre
    src_c = np.sin(theta) * rows + np.cos(theta) * cols + centre
    index = np.broadcast_to(np.arange(n)[:, None, None], src_r.shape)
    return ndimage.map_coordinates(images, [index, src_r, src_c], order=1, cval=0.0)


def _partners(rng, labels):
    """For every example, a different example of the same class (uniformly)."""
    partner = np.empty(len(labels), np.int64)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) < 2:
            raise ValueError(f"class {label} has a single example; a partner needs two")
        # an offset in [1, m) from each member's position never lands on itself
        shift = rng.integers(1, len(members), size=len(members))
        partner[members] = members[(np.arange(len(members)) + shift) % len(members)]
    return partner


def two_view_digits(*, seed=0, fractions=(0.6, 0.2, 0.2), size=16, max_angle=45.0, noise=1.0):
    """Train, validation and test splits of two-view digits.

    Args:
        seed: seeds the split, the angles, the partners and the noise.
        fractions: sizes of the train, validation and test splits (sum to 1).
        size: side of the upsampled images (8 keeps the original pixels).
        max_angle: view 1 is rotated uniformly in ``[-max_angle, max_angle]`` degrees.
        noise: view 2 gets uniform noise in ``[0, noise]`` on every pixel.

    Returns:
        A tuple ``(train, validation, test)`` of dicts with ``"view1"`` and
        ``"view2"`` ``(n, size * size)`` float32 in ``[0, 1]``, ``"label"``
        ``(n,)``, ``"angle"`` ``(n,)`` degrees of view 1, and ``"index"`` /
        ``"partner"`` ``(n,)``: the rows of ``sklearn.datasets.load_digits``
        shown in view 1 and in view 2 (never the same row).

    Raises:
        ValueError: on fractions that are not three positive numbers summing
            to 1, or a size below 8.
    """
    from sklearn.datasets import load_digits

    if len(fractions) != 3:
        raise ValueError(
            f"fractions must be three numbers (train, validation, test); got {fractions}"
        )
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels; got {size}")
    digits = load_digits()
    images = _upsample(digits.images.astype(np.float64), size)
    labels = digits.target.astype(np.int64)
    parts = split({"row": np.arange(len(labels))}, fractions, seed=seed)
    rng = np.random.default_rng([seed, 1])  # angles, partners and noise
    splits = []
    for rows in (part["row"] for part in parts):
        angle = rng.uniform(-max_angle, max_angle, size=len(rows))
        partner = rows[_partners(rng, labels[rows])]
        view1 = _rotate(images[rows], angle)
        view2 = images[partner] + rng.uniform(0.0, noise, size=(len(rows), size, size))
        splits.append(
            {
                "view1": np.clip(view1, 0, 1).reshape(len(rows), -1).astype(np.float32),
                "view2": np.clip(view2, 0, 1).reshape(len(rows), -1).astype(np.float32),
                "label": labels[rows],
                "angle": angle,
                "index": rows,
                "partner": partner,
            }
        )
    return tuple(splits)
