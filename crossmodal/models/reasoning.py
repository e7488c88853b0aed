"""Visual question answering from the pieces: one backbone, four ways for the question to meet it.

Every model here is a ``FusionNetwork`` over ``{"image": ..., "question":
...}`` whose output ``"answer"`` is a softmax over ``answers`` classes. The
image goes through a ``SpatialImageEncoder`` (a feature map with coordinate
channels), the question through the encoder given (a ``VectorEncoder`` for a
fixed code, a ``TokenEncoder`` for words), and the head is a
``VectorDecoder``; only the fusion layer differs:

* ``question_only``: no image at all, the language-prior baseline;
* ``concat_network``: the image's convolution blocks run without the
  question (``FiLMFusion(modulate=False)``, FiLM frozen at the identity) and
  the question joins after pooling;
* ``film_network``: the question modulates every block (Perez et al., 2018);
* ``relation_network``: a learned function of every pair of cells
  (Santoro et al., 2017).

Taught in the chapter "Cross-modal reasoning"; ``benchmarks/reasoning.py``
trains them at length.
"""

from crossmodal.decoders import VectorDecoder
from crossmodal.encoders import SpatialImageEncoder
from crossmodal.fusion import ConcatFusion, FiLMFusion, RelationFusion
from crossmodal.models.fusion_network import FusionNetwork
from crossmodal.validation import check_int


def _head(answers, hidden):
    return VectorDecoder(
        check_int(answers, "answers", minimum=2), hidden, output_activation="softmax", name="head"
    )


def question_only(question_encoder, answers, *, hidden=(128,), name="question_only"):
    """Answer from the question alone: ``{"question": ...}`` -> ``{"answer": ...}``."""
    return FusionNetwork(
        {"question": question_encoder},
        ConcatFusion(),
        _head(answers, hidden),
        output_name="answer",
        name=name,
    )


def film_network(
    question_encoder,
    answers,
    *,
    stem=(),
    filters=(16,) * 6,
    cells=8,
    hidden=(128,),
    modulate=True,
    name="film_network",
):
    """The image's convolution blocks, each scaled and shifted by the question (FiLM).

    ``stem`` are blocks of the ``SpatialImageEncoder`` that run before the
    question is read (none by default: the question modulates from the first
    layer); ``filters`` are the modulated blocks of ``FiLMFusion``. With
    ``modulate=False`` the FiLM layers are the identity: the same network with
    the question entering only after pooling (``concat_network``).
    """
    return FusionNetwork(
        {
            "image": SpatialImageEncoder(stem, coordinates=bool(stem), name="backbone"),
            "question": question_encoder,
        },
        FiLMFusion(filters, cells=cells, modulate=modulate, name="fusion"),
        _head(answers, hidden),
        output_name="answer",
        name=name,
    )


def concat_network(question_encoder, answers, **kwargs):
    """``film_network`` with FiLM frozen at the identity: the question joins after pooling."""
    kwargs.setdefault("name", "concat_network")
    return film_network(question_encoder, answers, modulate=False, **kwargs)


def relation_network(
    question_encoder,
    answers,
    *,
    stem=(24, 24, 24),
    relation=(128, 128),
    hidden=(128,),
    name="relation_network",
):
    """A Relation Network: g over every pair of the backbone's cells, summed, then the head.

    The default ``stem`` of three blocks leaves a ``4 x 4`` map of 32 x 32
    images: 256 pairs.
    """
    return FusionNetwork(
        {
            "image": SpatialImageEncoder(stem, coordinates=True, name="backbone"),
            "question": question_encoder,
        },
        RelationFusion(relation, name="fusion"),
        _head(answers, hidden),
        output_name="answer",
        name=name,
    )
