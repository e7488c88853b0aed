"""crossmodal: the Keras 3 package behind the course on cross-modal learning.

Models are built from three kinds of pieces: ``encoders`` (one modality ->
vector), ``fusion`` (dict of vectors -> vector) and ``decoders`` (vector ->
modality or prediction). ``datasets`` makes the data offline, ``evaluation``
measures shared spaces, ``explain`` attributes decisions to parts of the
inputs, ``plot`` draws, ``runtime`` seeds and picks the device profile,
``claims`` checks the chapters' claims on their executed numbers, and
``exercises`` checks the chapters' coding exercises.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from crossmodal import (  # noqa: E402
    claims,
    datasets,
    decoders,
    encoders,
    evaluation,
    exercises,
    explain,
    fusion,
    plot,
    runtime,
)

__version__ = "0.1.0"
__all__ = ["claims", "datasets", "decoders", "encoders", "evaluation", "exercises", "explain", "fusion",
           "plot", "runtime"]
