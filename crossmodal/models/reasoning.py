"""Visual question answering on the shapes world: models that reason about relations.

Every model maps ``{"image": (batch, height, width, 3), "question": ...}`` to
``{"answer": (batch, answers)}``, a softmax over ``ANSWERS``. The question
arrives through a question encoder given to the constructor: a
``VectorEncoder`` for the fixed binary ``"question_code"`` or a
``TokenEncoder`` for token ids, so every model reads both forms.

* ``QuestionOnly`` ignores the image: the language-prior baseline.
* ``ConcatVQA`` pools a CNN's feature map into one vector and concatenates
  it with the question (fusion by concatenation).
* ``FiLMNetwork`` lets the question scale and shift every channel of every
  layer of a CNN (Perez et al., 2018).
* ``RelationNetwork`` scores every pair of feature-map cells with the
  question and sums the scores (Santoro et al., 2017).

Their accuracies, per question type and seed, come from ``benchmarks/reasoning.py``.
"""

import keras
from keras import layers, ops

from crossmodal.datasets.shapes import ANSWERS
from crossmodal.validation import check_modalities, check_rank

_serialize = keras.saving.serialize_keras_object
_deserialize = keras.saving.deserialize_keras_object

IMAGE_EXPECTED = "images (batch, height, width, channels)"


def add_coordinates(features):
    """Append two channels holding each cell's x and y position in ``[-1, 1]``.

    ``(batch, height, width, channels)`` -> ``(batch, height, width, channels + 2)``.
    """
    height, width = features.shape[1], features.shape[2]
    ys = ops.linspace(-1.0, 1.0, height)
    xs = ops.linspace(-1.0, 1.0, width)
    grid = ops.stack([ops.tile(xs[None, :], (height, 1)), ops.tile(ys[:, None], (1, width))],
                     axis=-1)
    grid = ops.cast(grid, features.dtype)[None]
    batch = ops.shape(features)[0]
    return ops.concatenate([features, ops.tile(grid, (batch, 1, 1, 1))], axis=-1)


def add_global_average(features):
    """Append the map's average over positions to every cell.

    ``(batch, height, width, channels)`` -> ``(batch, height, width, 2 * channels)``.
    """
    average = ops.mean(features, axis=(1, 2), keepdims=True)
    return ops.concatenate([features, ops.broadcast_to(average, ops.shape(features))], axis=-1)


def pool_positions(features):
    """The average and the maximum of every channel over positions.

    ``(batch, height, width, channels)`` -> ``(batch, 2 * channels)``. The
    average can count (how much of a feature the scene holds); the maximum
    keeps the strongest single cell (for instance the one object that most
    resembles what a question asks for).
    """
    return ops.concatenate([ops.mean(features, axis=(1, 2)), ops.max(features, axis=(1, 2))],
                           axis=-1)


@keras.saving.register_keras_serializable(package="crossmodal")
class ConvFeatures(layers.Layer):
    """A CNN that keeps the spatial layout: images -> a feature map.

    Blocks of 3x3 convolution, batch normalisation, ReLU and 2x2 max pooling:
    ``(batch, height, width, 3)`` -> ``(batch, height / 2^k, width / 2^k,
    filters[-1])`` for ``k = len(filters)`` blocks.

    Args:
        filters: filters of each block.
    """

    def __init__(self, filters=(24, 24), **kwargs):
        super().__init__(**kwargs)
        self.filters = tuple(filters)
        self.convs = [layers.Conv2D(f, 3, padding="same", name=f"conv{i}")
                      for i, f in enumerate(self.filters)]
        self.norms = [layers.BatchNormalization(name=f"norm{i}")
                      for i in range(len(self.filters))]
        self.pool = layers.MaxPooling2D(2)

    def build(self, input_shape):
        check_rank(input_shape, 4, modality="image", expected=IMAGE_EXPECTED)
        shape = tuple(input_shape)
        for conv, norm in zip(self.convs, self.norms):
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
            norm.build(shape)
            shape = self.pool.compute_output_shape(shape)

    def call(self, images, training=None):
        check_rank(images, 4, modality="image", expected=IMAGE_EXPECTED)
        x = ops.cast(images, self.compute_dtype)
        for conv, norm in zip(self.convs, self.norms):
            x = self.pool(ops.relu(norm(conv(x), training=training)))
        return x

    def compute_output_shape(self, input_shape):
        shrink = 2 ** len(self.filters)
        side = [None if s is None else s // shrink for s in input_shape[1:3]]
        return (input_shape[0], *side, self.filters[-1])

    def get_config(self):
        return {**super().get_config(), "filters": list(self.filters)}


@keras.saving.register_keras_serializable(package="crossmodal")
class FiLM(layers.Layer):
    """Feature-wise linear modulation: a condition scales and shifts each channel.

    ``call(features, condition)`` with features ``(batch, height, width,
    channels)`` and condition ``(batch, dim)`` returns
    ``features * (1 + gamma) + beta`` of the features' shape, where
    ``[gamma, beta] = condition W + b`` (one ``gamma`` and one ``beta`` per
    channel, shared by every position). ``W`` and ``b`` start at zero, so a
    new FiLM layer is the identity and learns how far to depart from it.
    ``modulation(condition)`` returns ``(gamma, beta)``.
    """

    def build(self, features_shape, condition_shape):
        check_rank(features_shape, 4, modality="features",
                   expected="feature maps (batch, height, width, channels)")
        check_rank(condition_shape, 2, modality="condition", expected="vectors (batch, dim)")
        self.channels = features_shape[-1]
        self.project = layers.Dense(2 * self.channels, kernel_initializer="zeros",
                                    name="project")
        self.project.build(tuple(condition_shape))

    def modulation(self, condition):
        """``(gamma, beta)``, each ``(batch, channels)``."""
        gamma, beta = ops.split(self.project(condition), 2, axis=-1)
        return gamma, beta

    def call(self, features, condition):
        gamma, beta = self.modulation(ops.cast(condition, self.compute_dtype))
        return features * (1.0 + gamma[:, None, None, :]) + beta[:, None, None, :]

    def compute_output_shape(self, features_shape, condition_shape):
        return tuple(features_shape)


class _VQAModel(keras.Model):
    """What every reasoning model shares: input checks, the question encoder, the head."""

    def __init__(self, question_encoder, hidden=(128,), answers=len(ANSWERS), **kwargs):
        super().__init__(**kwargs)
        if not isinstance(question_encoder, layers.Layer):
            raise ValueError(f"question_encoder must be a Keras layer; got {question_encoder!r}")
        self.question_encoder = question_encoder
        self.hidden = tuple(hidden)
        self.answers = answers
        self.head_layers = [layers.Dense(h, activation="relu", name=f"head{i}")
                            for i, h in enumerate(self.hidden)]
        self.classifier = layers.Dense(answers, activation="softmax", name="answer")

    modalities = ("image", "question")

    def _inputs(self, inputs):
        inputs = check_modalities(inputs, self.modalities, owner=self.name)
        missing = sorted(set(self.modalities) - set(inputs))
        if missing:
            raise ValueError(f"{self.name}: missing modality {missing[0]!r}; "
                             f"this model needs {list(self.modalities)}")
        if "image" in inputs:
            check_rank(inputs["image"], 4, modality="image", expected=IMAGE_EXPECTED)
        return inputs

    def _question(self, question, training):
        try:
            return self.question_encoder(question, training=training)
        except ValueError as error:  # say which modality the encoder was reading
            raise ValueError(f"{self.name}: modality 'question': {error}") from error

    def _head(self, x):
        for dense in self.head_layers:
            x = dense(x)
        return {"answer": self.classifier(x)}

    def get_config(self):
        return {**super().get_config(), "question_encoder": _serialize(self.question_encoder),
                "hidden": list(self.hidden), "answers": self.answers}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["question_encoder"] = _deserialize(config["question_encoder"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="crossmodal")
class QuestionOnly(_VQAModel):
    """The language-prior baseline: answer from the question alone.

    ``{"question": ...}`` (an ``"image"`` is accepted and ignored) ->
    ``{"answer": (batch, answers)}``. It scores what the question's wording
    and the answer statistics give away without looking.

    Args:
        question_encoder: layer mapping the question to ``(batch, dim)``.
        hidden: widths of the ReLU layers of the answer head.
        answers: number of answers (``len(ANSWERS)``).
    """

    def _inputs(self, inputs):
        inputs = check_modalities(inputs, self.modalities, owner=self.name)
        if "question" not in inputs:
            raise ValueError(f"{self.name}: missing modality 'question'")
        return inputs

    def call(self, inputs, training=None):
        inputs = self._inputs(inputs)
        return self._head(self._question(inputs["question"], training))


@keras.saving.register_keras_serializable(package="crossmodal")
class ConcatVQA(_VQAModel):
    """CNN and question encoder, concatenated, then an MLP: fusion without relations.

    The feature map is pooled over positions into one vector (its average and
    its maximum, ``pool_positions``), concatenated with the question's
    encoding and classified. The pooling is the same as ``FiLMNetwork``'s;
    what differs is that the question arrives only after it.

    Args:
        question_encoder: layer mapping the question to ``(batch, dim)``.
        filters: filters of the ``ConvFeatures`` blocks.
        hidden: widths of the ReLU layers of the answer head.
        answers: number of answers.
    """

    def __init__(self, question_encoder, filters=(16, 16, 16), hidden=(128,),
                 answers=len(ANSWERS), **kwargs):
        super().__init__(question_encoder, hidden=hidden, answers=answers, **kwargs)
        self.filters = tuple(filters)
        self.features = ConvFeatures(self.filters, name="features")

    def call(self, inputs, training=None):
        inputs = self._inputs(inputs)
        pooled = pool_positions(self.features(inputs["image"], training=training))
        question = self._question(inputs["question"], training)
        return self._head(ops.concatenate([pooled, question], axis=-1))

    def get_config(self):
        return {**super().get_config(), "filters": list(self.filters)}


@keras.saving.register_keras_serializable(package="crossmodal")
class FiLMNetwork(_VQAModel):
    """FiLM (Perez et al., 2018): the question modulates every layer of the CNN.

    Each layer ``i`` reads the map (from the second layer on, with x and y
    coordinate channels appended) and computes
    ``x = relu(FiLM(BN(conv3x3(x)), q))``, batch normalisation without its
    own scale and shift (FiLM supplies them). 2x2 pooling follows while the
    map is larger than ``cells x cells``: the maximum after the first layer,
    which keeps a corner or an edge seen at full resolution (telling small
    circles from squares), the average after later ones, which keeps counts.
    The last layer also reads the map's average over positions, copied to
    every cell, so that each cell can compare itself with the named object
    wherever that object is. Pooling over positions (average and maximum,
    ``pool_positions``), concatenation with the question's encoding and the
    MLP head give the answer: because the question has already shaped every
    cell, the maximum can pick out, say, the circle nearest the named object.
    Modulating from the first layer lets the question pick out its object's
    colour before any pooling mixes the objects. With zero FiLM parameters
    (``gamma = beta = 0``) each modulation is the identity.

    Args:
        question_encoder: layer mapping the question to ``(batch, dim)``.
        filters: filters of each convolution layer.
        cells: side of the last feature map (32x32 images and ``cells=8``:
            two pooling steps).
        hidden: widths of the ReLU layers of the answer head.
        answers: number of answers.
    """

    def __init__(self, question_encoder, filters=(16,) * 6, cells=8, hidden=(128,),
                 answers=len(ANSWERS), **kwargs):
        super().__init__(question_encoder, hidden=hidden, answers=answers, **kwargs)
        self.filters = tuple(filters)
        self.cells = cells
        self.convs = [layers.Conv2D(f, 3, padding="same", name=f"conv{i}")
                      for i, f in enumerate(self.filters)]
        self.norms = [layers.BatchNormalization(center=False, scale=False, name=f"norm{i}")
                      for i in range(len(self.filters))]
        self.films = [FiLM(name=f"film{i}") for i in range(len(self.filters))]
        self.first_pool = layers.MaxPooling2D(2)
        self.pool = layers.AveragePooling2D(2)

    def feature_maps(self, inputs, training=None):
        """The last layer's map, ``(batch, cells, cells, filters[-1])``, and ``q``."""
        inputs = self._inputs(inputs)
        question = self._question(inputs["question"], training)
        x = ops.cast(inputs["image"], self.compute_dtype)
        last = len(self.convs) - 1
        for i, (conv, norm, film) in enumerate(zip(self.convs, self.norms, self.films)):
            if i and i == last:
                x = add_global_average(x)
            x = conv(add_coordinates(x) if i else x)
            x = ops.relu(film(norm(x, training=training), question))
            if x.shape[1] > self.cells:
                x = (self.pool if i else self.first_pool)(x)
        return x, question

    def classify(self, maps, question):
        """The answer from ``feature_maps``' output: pooling, the question, the head."""
        return self._head(ops.concatenate([pool_positions(maps), question], axis=-1))

    def call(self, inputs, training=None):
        return self.classify(*self.feature_maps(inputs, training=training))

    def get_config(self):
        return {**super().get_config(), "filters": list(self.filters), "cells": self.cells}


@keras.saving.register_keras_serializable(package="crossmodal")
class RelationNetwork(_VQAModel):
    """Relation Network (Santoro et al., 2017): a learned function of every pair of cells.

    Each cell of the CNN's ``(cells_h, cells_w)`` feature map, with its x and
    y coordinates, is an "object" ``o_i``. For every ordered pair ``(i, j)``
    the g-MLP reads ``[o_i, o_j, q]``; the outputs are summed over all
    ``pair_count = (cells_h * cells_w) ** 2`` pairs and the f-MLP (the
    answer head) maps the sum to the answer.

    Args:
        question_encoder: layer mapping the question to ``(batch, dim)``.
        filters: filters of the ``ConvFeatures`` blocks (3 blocks: 4x4 cells
            on 32x32 images).
        g_units: widths of the g-MLP's ReLU layers.
        hidden: widths of the f-MLP's ReLU layers.
        answers: number of answers.
    """

    def __init__(self, question_encoder, filters=(24, 24, 24), g_units=(128, 128),
                 hidden=(128,), answers=len(ANSWERS), **kwargs):
        super().__init__(question_encoder, hidden=hidden, answers=answers, **kwargs)
        self.filters = tuple(filters)
        self.g_units = tuple(g_units)
        self.features = ConvFeatures(self.filters, name="features")
        self.g = [layers.Dense(u, activation="relu", name=f"g{i}")
                  for i, u in enumerate(self.g_units)]
        self.pair_count = None

    def objects(self, images, training=None):
        """The cells as objects with coordinates: ``(batch, cells, channels + 2)``."""
        maps = add_coordinates(self.features(images, training=training))
        self.pair_count = (maps.shape[1] * maps.shape[2]) ** 2
        return ops.reshape(maps, (-1, maps.shape[1] * maps.shape[2], maps.shape[3]))

    def relations(self, inputs, training=None):
        """g over every pair: ``(batch, cells, cells, g_units[-1])``.

        g's first layer is linear in ``[o_i; o_j; q]`` before its ReLU, so
        it is computed as ``o_i A + o_j B + (q C + b)`` from one product per
        cell and one per question, then broadcast over the pairs: the same
        numbers as applying it to every concatenated pair, without building
        them.
        """
        inputs = self._inputs(inputs)
        objects = self.objects(inputs["image"], training=training)
        question = ops.cast(self._question(inputs["question"], training), objects.dtype)
        first = self.g[0]
        channels = objects.shape[-1]
        if not first.built:
            first.build((None, 2 * channels + question.shape[-1]))
        kernel = ops.cast(first.kernel, objects.dtype)
        left = ops.matmul(objects, kernel[:channels])  # o_i A: (batch, cells, units)
        right = ops.matmul(objects, kernel[channels:2 * channels])  # o_j B
        asked = ops.matmul(question, kernel[2 * channels:]) + ops.cast(first.bias, objects.dtype)
        x = first.activation(left[:, :, None, :] + right[:, None, :, :] + asked[:, None, None, :])
        for dense in self.g[1:]:
            x = dense(x)
        return x

    def call(self, inputs, training=None):
        return self._head(ops.sum(self.relations(inputs, training=training), axis=(1, 2)))

    def pair_importance(self, inputs):
        """How much each pair of cells supports the answer given: ``(batch, cells, cells)``.

        Entry ``(i, j)`` is ``p(a) - p(a | pair (i, j) left out of the sum)``
        for the answer ``a`` the model gives: the drop in its probability
        when ``g(o_i, o_j, q)`` is removed from the sum the head reads.
        Positive pairs support the answer; the cells are in row-major order
        of the feature map. Taught in the chapter "Cross-modal reasoning".
        """
        relations = self.relations(inputs)
        batch, cells, units = ops.shape(relations)[0], relations.shape[1], relations.shape[-1]
        total = ops.sum(relations, axis=(1, 2))
        probs = self._head(total)["answer"]
        answer = ops.argmax(probs, axis=-1)
        given = ops.take_along_axis(probs, answer[:, None], axis=-1)  # (batch, 1)
        without = total[:, None, None, :] - relations  # (batch, cells, cells, units)
        probs = self._head(ops.reshape(without, (-1, units)))["answer"]
        probs = ops.reshape(probs, (batch, cells * cells, -1))
        kept = ops.take_along_axis(probs, answer[:, None, None], axis=-1)[..., 0]
        return ops.reshape(given - kept, (batch, cells, cells))

    def get_config(self):
        return {**super().get_config(), "filters": list(self.filters),
                "g_units": list(self.g_units)}
