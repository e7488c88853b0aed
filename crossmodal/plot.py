"""Figures in one consistent style: image grids with captions, spectrograms, attributions.

Every chapter draws through these helpers, so the book looks the same
throughout. Each function returns the matplotlib ``Figure``.
"""

import textwrap

import keras
import numpy as np

from crossmodal.datasets.shapes import SAMPLING_RATE
from crossmodal.encoders import MEL_SETTINGS, mel_spectrogram_layer

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "image.interpolation": "nearest",
    # Opaque white behind every figure, so that its dark text stays readable on the site's
    # dark mode too (whatever a reader's matplotlibrc says).
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
}
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
"""The course's colour cycle (distinguishable with every common colour-vision deficiency)."""


def _pyplot():
    import matplotlib.pyplot as plt  # imported on first use: the package runs without it

    return plt


def use_style():
    """Apply the course style to every later matplotlib figure."""
    plt = _pyplot()
    plt.rcParams.update({**STYLE, "axes.prop_cycle": plt.cycler(color=COLOURS)})


def image_grid(images, captions=None, ncols=6, width=1.7, wrap=22):
    """Images in a grid, each with its caption wrapped under it.

    Args:
        images: ``(n, height, width, 3)`` floats in ``[0, 1]``.
        captions: optional ``n`` strings.
        ncols: images per row.
        width: inches per image.
        wrap: characters per caption line.
    """
    plt = _pyplot()
    images = np.asarray(images)
    n = len(images)
    nrows = int(np.ceil(n / ncols))
    lines = 0 if captions is None else max(len(_wrap(c, wrap)) for c in captions)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(ncols * width, nrows * (width + 0.15 * lines)), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(np.clip(images[i], 0, 1))
            if captions is not None:
                ax.set_title("\n".join(_wrap(captions[i], wrap)), fontsize=7)
    fig.tight_layout()
    return fig


def _wrap(text, width):
    return textwrap.wrap(str(text), width, break_long_words=False) or [""]


def mel_spectrogram(audio, sampling_rate=SAMPLING_RATE, num_mel_bins=MEL_SETTINGS["num_mel_bins"]):
    """Log-mel spectrogram ``(n, bins, frames)`` of ``(n, samples)`` waveforms.

    Uses ``crossmodal.encoders.mel_spectrogram_layer`` (32 ms windows, 8 ms
    hop), the same transform ``AudioEncoder`` applies.
    """
    layer = mel_spectrogram_layer(sampling_rate, num_mel_bins)
    return keras.ops.convert_to_numpy(layer(np.asarray(audio, np.float32)))


def spectrogram(audio, sampling_rate=SAMPLING_RATE, title=None, ax=None):
    """Draw the log-mel spectrogram of one waveform; returns the figure."""
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(6, 2.2))
    spec = mel_spectrogram(np.asarray(audio)[None], sampling_rate)[0]
    seconds = len(audio) / sampling_rate
    ax.imshow(
        spec, origin="lower", aspect="auto", cmap="magma", extent=(0, seconds, 0, spec.shape[0])
    )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel bin")
    ax.grid(False)
    if title:
        ax.set_title(title)
    ax.figure.tight_layout()
    return ax.figure


def attribution_figure(images, maps, words, scores, titles=None, cmap="RdBu_r", width=8.0):
    """One row per example: the image, its attribution map over it, the words coloured.

    Both attributions are drawn on one diverging colour scale, symmetric about
    zero, so that a pixel and a word with the same colour matter equally (as
    from ``crossmodal.explain.occlusion_map`` and ``token_importance``, whose
    units are both a drop in probability).

    Args:
        images: ``(n, height, width, 3)`` floats in ``[0, 1]``.
        maps: ``(n, height, width)`` attribution maps.
        words: ``n`` lists of words (a caption's tokens, padding removed).
        scores: ``n`` sequences of one score per word.
        titles: optional ``n`` strings shown above each row's words.
        cmap: a diverging matplotlib colour map.
        width: figure width in inches.
    """
    plt = _pyplot()
    n = len(images)
    limit = max(
        max(float(np.max(np.abs(m))) for m in maps),
        max((float(np.max(np.abs(s))) for s in scores if len(s)), default=0.0),
        1e-6,
    )
    norm = plt.Normalize(-limit, limit)
    colours = plt.get_cmap(cmap)
    fig, axes = plt.subplots(
        n,
        3,
        figsize=(width, 1.3 * n + 0.5),
        squeeze=False,
        layout="constrained",
        gridspec_kw={"width_ratios": [1, 1, 3]},
    )
    for i in range(n):
        left, middle, right = axes[i]
        left.imshow(np.clip(images[i], 0, 1))
        middle.imshow(np.clip(images[i], 0, 1).mean(axis=-1), cmap="gray", vmin=0, vmax=1)
        shown = middle.imshow(maps[i], cmap=colours, norm=norm, alpha=0.75)
        right.set(xlim=(0, 1), ylim=(0, 1))
        if titles is not None:
            right.text(0.0, 0.85, titles[i], fontsize=8, color="0.35", va="center")
        previous = None
        for word, score in zip(words[i], scores[i]):
            box = {
                "boxstyle": "round,pad=0.3",
                "linewidth": 0,
                "facecolor": colours(norm(float(score))),
            }
            ink = "white" if abs(float(score)) > 0.6 * limit else "black"
            if previous is None:  # each word placed after the previous one, at draw time
                previous = right.text(0.0, 0.4, word, va="center", fontsize=9, bbox=box, color=ink)
            else:
                previous = right.annotate(
                    word,
                    xy=(1, 0.5),
                    xycoords=previous,
                    xytext=(7, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=9,
                    bbox=box,
                    color=ink,
                )
            previous.set_in_layout(False)
        for ax in (left, middle, right):
            ax.axis("off")
    axes[0, 0].set_title("image", fontsize=8)
    axes[0, 1].set_title("image attribution", fontsize=8)
    axes[0, 2].set_title("caption attribution (each word removed)", fontsize=8, loc="left")
    bar = fig.colorbar(shown, ax=axes[:, 2].tolist(), fraction=0.04, pad=0.01)
    bar.set_label("drop in probability\nof the predicted class")
    return fig
