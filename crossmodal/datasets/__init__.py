"""Data sets of the course, all made or loaded offline, as dicts of modalities."""

from crossmodal.datasets.article import load_cifar10, load_imdb, pair_unrelated
from crossmodal.datasets.digits import two_view_digits
from crossmodal.datasets.pipeline import indexed_dataset, split, stream, subset, to_dataset
from crossmodal.datasets.shapes import (
    ANSWERS,
    COLOURS,
    QUESTION_CODE_SIZE,
    QUESTION_TYPES,
    RELATIONAL,
    SAMPLING_RATE,
    SHAPES,
    SIZES,
    VOCABULARY,
    answer_ids,
    ask_questions,
    make_scenes,
    parse_caption,
    question_code,
    speak,
)
from crossmodal.datasets.text import bag_of_words, caption_vectorizer

__all__ = [
    "ANSWERS",
    "COLOURS",
    "QUESTION_CODE_SIZE",
    "QUESTION_TYPES",
    "RELATIONAL",
    "SAMPLING_RATE",
    "SHAPES",
    "SIZES",
    "VOCABULARY",
    "answer_ids",
    "ask_questions",
    "bag_of_words",
    "indexed_dataset",
    "caption_vectorizer",
    "load_cifar10",
    "load_imdb",
    "make_scenes",
    "parse_caption",
    "question_code",
    "pair_unrelated",
    "speak",
    "split",
    "stream",
    "subset",
    "to_dataset",
    "two_view_digits",
]
