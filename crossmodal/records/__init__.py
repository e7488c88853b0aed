"""Results of long runs, shipped with the package so that a chapter runs outside the repository.

The scripts in ``benchmarks/`` write their results to ``benchmarks/results/``; the files the book
reads are installed with the package as well, here:

- ``claims.csv``: every chapter's claims over seeds and numerical variants
  (``benchmarks/claims.py``), read by :mod:`crossmodal.claims`;
- ``fusion_layers.csv`` and ``padding.csv``: measured throughputs, each row naming its CPU
  (``benchmarks/fusion.py``, ``benchmarks/padding.py``), quoted by "Frontiers and challenges" and
  "The code, end to end";
- ``reasoning_long.csv``, ``reasoning_seeds.csv`` and ``*-seed0.keras``: the reasoning models
  trained at length and the controlled comparison over seeds (``benchmarks/reasoning.py``), read
  by "Cross-modal reasoning".
"""

import csv
import pathlib

FOLDER = pathlib.Path(__file__).parent
"""Where the recorded files are installed."""


def path(name):
    """The path of the recorded file ``name``; a ``FileNotFoundError`` lists those there are."""
    file = FOLDER / name
    if not file.is_file():
        known = sorted(p.name for p in FOLDER.iterdir() if p.suffix in (".csv", ".keras"))
        raise FileNotFoundError(f"no recorded result {name!r}; the package has {known}")
    return file


def rows(name):
    """The rows of the recorded CSV ``name`` as a list of dicts of strings."""
    with path(name).open(newline="") as file:
        return list(csv.DictReader(file))


def model(name):
    """The recorded Keras model ``name`` (a ``.keras`` file), loaded in safe mode."""
    import keras

    import crossmodal.models  # noqa: F401  (registers the classes the file names)

    return keras.saving.load_model(path(name), safe_mode=True)
