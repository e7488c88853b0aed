"""crossmodal: the Keras 3 package behind the course on cross-modal learning.

Models are built from three kinds of pieces: ``encoders`` (one modality ->
vector), ``fusion`` (dict of vectors -> vector) and ``decoders`` (vector ->
modality or prediction); ``multimodal.MultimodalEncoder`` composes encoders,
``dropout`` (missing modalities) and fusion, and every model in ``models``
starts with it; ``generation`` writes captions token by token and draws images
for a caption. ``losses`` holds the contrastive loss, ``datasets`` makes the
data offline, ``evaluation`` measures shared spaces, ``explain`` attributes
decisions to parts of the inputs, ``plot`` draws, ``records`` holds the results
of long runs, ``runtime`` seeds and picks the device profile, ``claims`` checks
the chapters' claims on their executed numbers, and ``exercises`` checks the
chapters' coding exercises.

The package runs on any Keras backend (TensorFlow, JAX or PyTorch, chosen by
``KERAS_BACKEND``; TensorFlow when none is set) and imports none of them,
nor matplotlib or scikit-learn, until a function needs it.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from crossmodal import (  # noqa: E402
    claims,
    datasets,
    decoders,
    dropout,
    encoders,
    evaluation,
    exercises,
    explain,
    fusion,
    generation,
    losses,
    models,
    multimodal,
    plot,
    records,
    runtime,
)

__version__ = "0.2.0"
__all__ = [
    "claims",
    "datasets",
    "decoders",
    "dropout",
    "encoders",
    "evaluation",
    "exercises",
    "explain",
    "fusion",
    "generation",
    "losses",
    "models",
    "multimodal",
    "plot",
    "records",
    "runtime",
]
