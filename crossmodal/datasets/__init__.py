"""Data sets of the course, all made or loaded offline, as dicts of modalities."""

from crossmodal.datasets.digits import two_view_digits
from crossmodal.datasets.pipeline import split, stream, subset, to_dataset
from crossmodal.datasets.shapes import (
    ANSWERS,
    COLOURS,
    QUESTION_TYPES,
    RELATIONAL,
    SAMPLE_RATE,
    SHAPES,
    SIZES,
    VOCABULARY,
    make_scenes,
    speak,
)
from crossmodal.datasets.text import bag_of_words, caption_vectorizer

__all__ = [
    "ANSWERS",
    "COLOURS",
    "QUESTION_TYPES",
    "RELATIONAL",
    "SAMPLE_RATE",
    "SHAPES",
    "SIZES",
    "VOCABULARY",
    "bag_of_words",
    "caption_vectorizer",
    "make_scenes",
    "speak",
    "split",
    "stream",
    "subset",
    "to_dataset",
    "two_view_digits",
]
