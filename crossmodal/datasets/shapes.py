"""The shapes world: procedural scenes with captions, questions and audio.

Every chapter of the course trains on this generator. A *scene* holds one to
``max_objects`` coloured shapes on a black canvas; each scene comes with four
modalities that describe it in different ways:

* ``"image"``: ``(n, size, size, 3)`` float32 RGB in ``[0, 1]``;
* ``"caption"``: ``(n,)`` English sentences naming every object's size,
  colour and shape, with synonyms and varied word order;
* ``"question"`` / ``"answer"``: ``(n,)`` strings, one question per scene
  about one named object (non-relational) or about its relation to the
  others (relational), in the spirit of Sort-of-CLEVR; ``"question_code"``
  is the same question as a fixed binary vector (``question_code``);
* ``"audio"`` (optional): ``(n, samples)`` float32, the caption "spoken" as
  one tone per word by a speaker with their own pitch, tempo and noise.

The ground truth is kept under ``"scene"``: per object slot the shape,
colour, size and centre (``-1`` marks an empty slot), so every caption and
answer can be checked. Everything is vectorised over scenes and seeded: the
same arguments give the same data. The chapter "Modalities and shared
spaces" introduces the world; ``ask_questions`` asks further questions about
existing scenes for the chapter "Cross-modal reasoning".
"""

from __future__ import annotations

import re

import numpy as np

SHAPES = ("circle", "square", "triangle")
COLOURS = {
    "red": (0.90, 0.10, 0.10),
    "green": (0.10, 0.80, 0.10),
    "blue": (0.15, 0.30, 1.00),
    "yellow": (0.95, 0.90, 0.10),
    "magenta": (0.90, 0.10, 0.90),
    "cyan": (0.10, 0.85, 0.90),
}
SIZES = ("small", "large")

SHAPE_WORDS = {
    "circle": ("circle", "disc", "dot"),
    "square": ("square", "box", "block"),
    "triangle": ("triangle", "wedge", "pyramid"),
}
SIZE_WORDS = {"small": ("small", "little", "tiny"), "large": ("large", "big", "huge")}
# Caption templates for one object: {a} article, {s} size, {c} colour, {h} shape.
OBJECT_TEMPLATES = (
    "a {s} {c} {h}",
    "a {c} {h} that is {s}",
    "a {s} {h} coloured {c}",
    "a {c} {s} {h}",
)
SCENE_TEMPLATES = (
    "there is {objects}",
    "the picture shows {objects}",
    "{objects}",
    "we can see {objects}",
)
JOINERS = (" and ", " next to ", " with ")

QUESTION_TYPES = (
    "shape",  # non-relational: the shape of the named object
    "horizontal",  # non-relational: is it on the left or the right
    "vertical",  # non-relational: is it at the top or the bottom
    "nearest",  # relational: the shape of the object nearest to it
    "furthest",  # relational: the shape of the object furthest from it
    "count",  # relational: how many objects share its shape
)
RELATIONAL = ("nearest", "furthest", "count")
QUESTION_TEMPLATES = {
    "shape": "what shape is the {c} object",
    "horizontal": "is the {c} object on the left or on the right",
    "vertical": "is the {c} object at the top or at the bottom",
    "nearest": "what shape is the object nearest to the {c} object",
    "furthest": "what shape is the object furthest from the {c} object",
    "count": "how many objects have the same shape as the {c} object",
}
ANSWERS = SHAPES + ("left", "right", "top", "bottom") + tuple(str(i) for i in range(1, 7))
QUESTION_CODE_SIZE = len(COLOURS) + len(QUESTION_TYPES)
"""Width of ``"question_code"``: a one-hot of the colour, then one of the type."""

SAMPLING_RATE = 8000
_RADII = {"small": 3.0, "large": 5.0}  # in pixels of a 32-pixel canvas
_REACH = 1.3  # every shape lies within 1.3 radii of its centre
_NEAR_TIE = 2.0  # relational answers need distances at least this far apart


def _vocabulary():
    words = set()
    for text in OBJECT_TEMPLATES + SCENE_TEMPLATES + JOINERS:
        words.update(w for w in text.replace("{", " {").split() if not w.startswith("{"))
    for synonyms in list(SHAPE_WORDS.values()) + list(SIZE_WORDS.values()):
        words.update(synonyms)
    words.update(COLOURS)
    for text in QUESTION_TEMPLATES.values():
        words.update(w for w in text.split() if not w.startswith("{"))
    return tuple(sorted(words))


VOCABULARY = _vocabulary()
"""Every word a caption or question can contain, sorted (padding and OOV excluded)."""


def _check_choice(name, given, allowed):
    unknown = [v for v in given if v not in allowed]
    if unknown or not given:
        raise ValueError(f"{name} must be a non-empty subset of {list(allowed)}; got {list(given)}")
    return tuple(given)


def make_scenes(
    n,
    *,
    seed=0,
    image_size=32,
    min_objects=1,
    max_objects=1,
    shapes=SHAPES,
    colours=tuple(COLOURS),
    sizes=SIZES,
    image_noise=0.0,
    occlusion=0.0,
    caption_dropout=0.0,
    question_types=QUESTION_TYPES,
    audio=False,
    audio_noise=0.05,
    audio_seconds=1.0,
):
    """Generate ``n`` scenes of the shapes world with every modality.

    Args:
        n: number of scenes (>= 0).
        seed: integer seed; the same arguments and seed give the same data.
        image_size: side of the square RGB image in pixels (16 to 128).
        min_objects, max_objects: how many objects a scene holds (1 to 6);
            the objects of a scene never overlap and have distinct colours.
        shapes, colours, sizes: the attribute values to draw from.
        image_noise: standard deviation of Gaussian pixel noise (>= 0);
            the image is clipped back to ``[0, 1]``.
        occlusion: probability in ``[0, 1]`` that a grey square patch of a
            quarter of the image side hides part of the scene.
        caption_dropout: probability in ``[0, 1)`` that each caption word is
            dropped; what is left stays true of the scene.
        question_types: which of ``QUESTION_TYPES`` to ask; relational ones
            are only asked of scenes with at least two objects.
        audio: whether to synthesise the ``"audio"`` modality.
        audio_noise: standard deviation of the additive noise on the audio.
        audio_seconds: length of each recording at ``SAMPLING_RATE`` Hz.

    Returns:
        A dict with ``"image"``, ``"caption"``, ``"question"``, ``"answer"``,
        ``"question_type"``, ``"question_code"`` ``(n, QUESTION_CODE_SIZE)``
        float32 (and ``"audio"``) as described in the module docstring,
        plus ``"scene"``: a dict of ``(n, max_objects)`` arrays
        ``shape``, ``colour``, ``size`` (indices into ``shapes``, ``colours``,
        ``sizes``; ``-1`` for an empty slot), ``x`` and ``y`` (pixel centres),
        and ``n_objects`` ``(n,)``; ``"label"`` ``(n,)`` is
        ``shape * len(colours) + colour`` of the first object.

    Raises:
        ValueError: on a negative count, an unknown attribute value, more
            objects than fit on the canvas, or a knob out of range.
    """
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer; got {n!r}")
    if not 16 <= image_size <= 128:
        raise ValueError(f"image_size must be between 16 and 128 pixels; got {image_size}")
    shapes = _check_choice("shapes", shapes, SHAPES)
    colours = _check_choice("colours", colours, tuple(COLOURS))
    sizes = _check_choice("sizes", sizes, SIZES)
    question_types = _check_choice("question_types", question_types, QUESTION_TYPES)
    if not 1 <= min_objects <= max_objects:
        raise ValueError(
            f"need 1 <= min_objects <= max_objects; got min_objects={min_objects}, "
            f"max_objects={max_objects}"
        )
    if max_objects > min(6, len(colours)):
        raise ValueError(
            f"max_objects={max_objects} is too many: at most 6 objects, each of a "
            f"distinct colour ({len(colours)} colours allowed)"
        )
    _grid(image_size, max_objects, sizes)
    for knob, value, upper in (
        ("occlusion", occlusion, 1.0),
        ("caption_dropout", caption_dropout, 0.999),
    ):
        if not 0.0 <= value <= upper:
            raise ValueError(f"{knob} must be in [0, {upper}]; got {value}")
    for knob, value in (("image_noise", image_noise), ("audio_noise", audio_noise)):
        if value < 0:
            raise ValueError(f"{knob} must be >= 0; got {value}")
    if audio_seconds <= 0:
        raise ValueError(f"audio_seconds must be > 0; got {audio_seconds}")

    rng = np.random.default_rng(seed)
    scene = _layout(rng, n, image_size, min_objects, max_objects, shapes, colours, sizes)
    data = {
        "image": _render(rng, scene, image_size, shapes, colours, sizes, image_noise, occlusion),
    }
    words = _caption_words(rng, scene, shapes, colours, sizes)
    data["caption"] = _join(words, rng, caption_dropout)
    (data["question"], data["answer"], data["question_type"], data["question_code"]) = _questions(
        rng, scene, image_size, shapes, colours, question_types
    )
    if audio:
        clean = _join(words, rng, 0.0)
        data["audio"] = speak(
            clean, seed=rng.integers(2**31), noise=audio_noise, seconds=audio_seconds
        )
    data["scene"] = scene
    data["label"] = np.where(
        scene["shape"][:, 0] >= 0, scene["shape"][:, 0] * len(colours) + scene["colour"][:, 0], -1
    )
    return data


def _layout(rng, n, image_size, min_objects, max_objects, shapes, colours, sizes):
    """Draw attributes, and positions in distinct cells of a grid (no overlaps)."""
    count = rng.integers(min_objects, max_objects + 1, size=n)
    present = np.arange(max_objects)[None, :] < count[:, None]
    shape = rng.integers(len(shapes), size=(n, max_objects))
    # distinct colours per scene: the first max_objects of a random permutation
    colour = np.argsort(rng.random((n, len(colours))), axis=1)[:, :max_objects]
    size = rng.integers(len(sizes), size=(n, max_objects))
    reach = _REACH * np.array([_RADII[s] for s in sizes])[size] * image_size / 32.0
    cells, cell = _grid(image_size, max_objects, sizes)
    # each object gets its own cell of a cells x cells grid, jittered inside it
    slot = np.argsort(rng.random((n, cells * cells)), axis=1)[:, :max_objects]
    low = np.stack([slot % cells, slot // cells], axis=-1) * cell + reach[..., None] + 0.5
    span = np.maximum(cell - 2 * reach - 1.0, 0.0)[..., None]
    x, y = np.moveaxis(low + rng.random((n, max_objects, 2)) * span, -1, 0)
    empty = ~present
    for a in (shape, colour, size):
        a[empty] = -1
    x[empty] = -1.0
    y[empty] = -1.0
    return {"shape": shape, "colour": colour, "size": size, "x": x, "y": y, "n_objects": count}


def _grid(image_size, max_objects, sizes):
    """The placement grid: ``cells`` per side, each ``cell`` pixels wide."""
    cells = int(np.ceil(np.sqrt(max_objects)))
    cell = image_size / cells
    widest = 2 * _REACH * max(_RADII[s] for s in sizes) * image_size / 32.0 + 1.0
    if widest > cell:
        raise ValueError(
            f"{max_objects} objects of sizes {list(sizes)} do not fit on a "
            f"{image_size}x{image_size} image; use fewer objects, "
            f"sizes=('small',) or a larger image_size"
        )
    return cells, cell


def _render(rng, scene, image_size, shapes, colours, sizes, noise, occlusion):
    """Rasterise every object slot at once over all scenes (no pixel loops).

    Objects are painted as colour indices into an ``(n, size, size)`` map, one
    shape kind at a time over the scenes that hold it, then looked up in the
    palette once.
    """
    n, slots = scene["shape"].shape
    grid = np.arange(image_size, dtype=np.float32) + 0.5
    paint = np.zeros((n, image_size, image_size), np.int8)  # 0 = background
    radii = np.array([_RADII[s] for s in sizes], np.float32) * (image_size / 32.0)
    for k in range(slots):
        for i, name in enumerate(shapes):
            idx = np.flatnonzero(scene["shape"][:, k] == i)
            dx = grid[None, None, :] - scene["x"][idx, k, None, None].astype(np.float32)
            dy = grid[None, :, None] - scene["y"][idx, k, None, None].astype(np.float32)
            r = radii[scene["size"][idx, k]][:, None, None]
            if name == "circle":
                mask = dx**2 + dy**2 <= r**2
            elif name == "square":
                mask = (np.abs(dx) <= 0.85 * r) & (np.abs(dy) <= 0.85 * r)
            else:  # pointing up: the half-width grows from 0 at the apex to 0.9 r at the base
                mask = (np.abs(dy) <= 0.9 * r) & (np.abs(dx) <= (dy + 0.9 * r) / 2.0)
            colour = (scene["colour"][idx, k] + 1).astype(np.int8)[:, None, None]
            paint[idx] = np.where(mask, colour, paint[idx])
    palette = np.array([(0.0, 0.0, 0.0)] + [COLOURS[c] for c in colours], np.float32)
    image = palette[paint]
    if occlusion > 0:
        side = max(2, image_size // 4)
        hit = rng.random(n) < occlusion
        corner = rng.integers(0, image_size - side + 1, size=(n, 2))
        rows = (grid[None, :] >= corner[:, :1]) & (grid[None, :] < corner[:, :1] + side)
        cols = (grid[None, :] >= corner[:, 1:]) & (grid[None, :] < corner[:, 1:] + side)
        patch = rows[:, :, None] & cols[:, None, :] & hit[:, None, None]
        image = np.where(patch[..., None], np.float32(0.5), image)
    if noise > 0:
        image = np.clip(image + rng.normal(0, noise, image.shape).astype(np.float32), 0, 1)
    return image.astype(np.float32)


def _caption_words(rng, scene, shapes, colours, sizes):
    """Word lists of every caption, drawn with vectorised random choices."""
    n, slots = scene["shape"].shape
    obj_template = rng.integers(len(OBJECT_TEMPLATES), size=(n, slots))
    shape_syn = rng.integers(3, size=(n, slots))
    size_syn = rng.integers(3, size=(n, slots))
    scene_template = rng.integers(len(SCENE_TEMPLATES), size=n)
    joiner = rng.integers(len(JOINERS), size=(n, slots))
    order = np.argsort(rng.random((n, slots)), axis=1)  # objects in random order
    captions = []
    for i in range(n):
        parts = []
        for k in order[i]:
            if scene["shape"][i, k] < 0:
                continue
            parts.append(
                OBJECT_TEMPLATES[obj_template[i, k]].format(
                    s=SIZE_WORDS[sizes[scene["size"][i, k]]][size_syn[i, k]],
                    c=colours[scene["colour"][i, k]],
                    h=SHAPE_WORDS[shapes[scene["shape"][i, k]]][shape_syn[i, k]],
                )
            )
        objects = parts[0]
        for j, part in enumerate(parts[1:]):
            objects += JOINERS[joiner[i, j]] + part
        captions.append(SCENE_TEMPLATES[scene_template[i]].format(objects=objects).split())
    return captions


def parse_caption(caption, shapes=SHAPES, colours=tuple(COLOURS), sizes=SIZES):
    """Read a caption back: its objects, or ``None`` if the caption grammar cannot make it.

    The grammar is the one ``make_scenes`` writes: a scene template around
    objects joined by ``JOINERS``, each object in one of ``OBJECT_TEMPLATES``
    with any synonym of its size and shape. The chapter "Generating one
    modality from another" scores generated captions with it.

    Args:
        caption: a sentence (extra spaces are ignored).
        shapes, colours, sizes: the names ``make_scenes`` was given.

    Returns:
        A tuple of ``(size, colour, shape)`` index triples, one per object in
        the caption's order (indices into ``sizes``, ``colours`` and
        ``shapes``), or ``None``.
    """
    text = " ".join(str(caption).split())
    body = _objects_text(text)
    if body is None:
        return None
    objects = []
    for part in _JOINER_PATTERN.split(body):
        found = _object_words(part)
        if found is None:
            return None
        size, colour, shape = found
        if colour not in colours:
            return None
        objects.append((sizes.index(size), colours.index(colour), shapes.index(shape)))
    return tuple(objects)


_JOINER_PATTERN = re.compile("|".join(re.escape(joiner) for joiner in JOINERS))
_WORD_PATTERNS = {"s": "(?P<s>\\w+)", "c": "(?P<c>\\w+)", "h": "(?P<h>\\w+)"}
_OBJECT_PATTERNS = [re.compile(template.format(**_WORD_PATTERNS)) for template in OBJECT_TEMPLATES]
_SIZE_OF = {word: size for size, words in SIZE_WORDS.items() for word in words}
_SHAPE_OF = {word: shape for shape, words in SHAPE_WORDS.items() for word in words}


def _objects_text(text):
    """The caption without its scene template, or ``None`` if no template fits."""
    for template in SCENE_TEMPLATES:
        prefix = template.replace("{objects}", "")
        if prefix and text.startswith(prefix):
            return text[len(prefix) :]
    return text if text else None


def _object_words(text):
    """``(size, colour, shape)`` names of one object's words, or ``None``."""
    for pattern in _OBJECT_PATTERNS:
        match = pattern.fullmatch(text)
        if match and match["s"] in _SIZE_OF and match["h"] in _SHAPE_OF:
            return _SIZE_OF[match["s"]], match["c"], _SHAPE_OF[match["h"]]
    return None


def _join(words, rng, dropout):
    """Join word lists into sentences, dropping each word with ``dropout``."""
    if dropout > 0:
        words = [[w for w in ws if rng.random() >= dropout] or ws[-1:] for ws in words]
    return np.array([" ".join(ws) for ws in words], dtype=object)


def _questions(rng, scene, image_size, shapes, colours, question_types):
    """One question per scene about a named object: text, answer, type and code."""
    n, slots = scene["shape"].shape
    count = scene["n_objects"]
    relational = np.array([t in RELATIONAL for t in question_types])
    choice = rng.integers(len(question_types), size=n)
    alone = count < 2
    if relational.any() and (~relational).any():
        simple = np.flatnonzero(~relational)
        choice = np.where(
            alone & relational[choice], simple[rng.integers(len(simple), size=n)], choice
        )
    elif relational.all() and alone.any():
        raise ValueError("relational questions need min_objects >= 2")
    qtype = np.array(question_types, dtype=object)[choice]

    # distances between every pair of objects; an object is never its own neighbour
    dist = np.hypot(
        scene["x"][:, :, None] - scene["x"][:, None, :],
        scene["y"][:, :, None] - scene["y"][:, None, :],
    )
    present = scene["shape"] >= 0
    pair = present[:, :, None] & present[:, None, :] & ~np.eye(slots, dtype=bool)
    near = np.where(pair, dist, np.inf)
    far = np.where(pair, dist, -np.inf)

    # the named object: any present one whose relational answer is not a near-tie
    usable = present.copy()
    if slots > 1:
        sorted_near = np.sort(near, axis=2)
        sorted_far = -np.sort(-far, axis=2)
        with np.errstate(invalid="ignore"):  # inf - inf where a scene has < 3 objects
            near_gap = sorted_near[:, :, 1] - sorted_near[:, :, 0]
            far_gap = sorted_far[:, :, 0] - sorted_far[:, :, 1]
        is_near = (qtype == "nearest")[:, None]
        is_far = (qtype == "furthest")[:, None]
        clear = np.where(
            is_near, near_gap >= _NEAR_TIE, np.where(is_far, far_gap >= _NEAR_TIE, True)
        )
        usable &= clear
        # a scene with no clear object falls back to a shape question
        stuck = ~usable.any(axis=1)
        qtype = np.where(stuck, "shape", qtype)
        usable[stuck] = present[stuck]
    target = np.argmax(usable * rng.random((n, slots)), axis=1)
    rows = np.arange(n)
    t_colour = scene["colour"][rows, target]
    t_shape = scene["shape"][rows, target]
    nearest = np.argmin(near[rows, target], axis=1)
    furthest = np.argmax(far[rows, target], axis=1)
    same = ((scene["shape"] == t_shape[:, None]) & present).sum(axis=1)
    cx, cy = scene["x"][rows, target], scene["y"][rows, target]
    half = image_size / 2.0

    answers = np.empty(n, dtype=object)
    questions = np.empty(n, dtype=object)
    for t in set(qtype):
        m = qtype == t
        questions[m] = [QUESTION_TEMPLATES[t].format(c=colours[c]) for c in t_colour[m]]
        if t == "shape":
            answers[m] = np.array(shapes, dtype=object)[t_shape[m]]
        elif t == "horizontal":
            answers[m] = np.where(cx[m] < half, "left", "right")
        elif t == "vertical":
            answers[m] = np.where(cy[m] < half, "top", "bottom")
        elif t == "nearest":
            answers[m] = np.array(shapes, dtype=object)[scene["shape"][rows, nearest][m]]
        elif t == "furthest":
            answers[m] = np.array(shapes, dtype=object)[scene["shape"][rows, furthest][m]]
        else:
            answers[m] = same[m].astype(str)
    code = question_code(qtype, np.array(colours, dtype=object)[t_colour])
    return questions, answers.astype(object), qtype.astype(object), code


def question_code(question_types, colours):
    """The fixed binary encoding of questions, as in Santoro et al. (2017).

    Args:
        question_types: ``(n,)`` names from ``QUESTION_TYPES``.
        colours: ``(n,)`` names from ``COLOURS``, the object each question names.

    Returns:
        ``(n, QUESTION_CODE_SIZE)`` float32: a one-hot of the colour (in the
        order of ``COLOURS``) followed by a one-hot of the question type (in
        the order of ``QUESTION_TYPES``).
    """
    colour_index = {c: i for i, c in enumerate(COLOURS)}
    type_index = {t: i for i, t in enumerate(QUESTION_TYPES)}
    c = np.array([colour_index[v] for v in colours], dtype=np.int64).reshape(-1)
    t = np.array([type_index[v] for v in question_types], dtype=np.int64).reshape(-1)
    code = np.zeros((len(c), QUESTION_CODE_SIZE), np.float32)
    code[np.arange(len(c)), c] = 1.0
    code[np.arange(len(t)), len(COLOURS) + t] = 1.0
    return code


def answer_ids(answers):
    """Answers as class indices for training: ``(n,)`` strings -> ``(n,)`` int64 into ``ANSWERS``.

    Raises:
        ValueError: naming the first answer that is not in ``ANSWERS``.
    """
    index = {a: i for i, a in enumerate(ANSWERS)}
    unknown = [a for a in answers if a not in index]
    if unknown:
        raise ValueError(f"answer {unknown[0]!r} is not one of ANSWERS {list(ANSWERS)}")
    return np.array([index[a] for a in answers], dtype=np.int64)


def ask_questions(
    data,
    *,
    per_scene=1,
    seed=0,
    shapes=SHAPES,
    colours=tuple(COLOURS),
    question_types=QUESTION_TYPES,
    balance=False,
):
    """Ask new questions about the scenes of ``make_scenes``, several per scene.

    Training a reasoning model needs many more questions than images; this
    draws ``per_scene`` fresh questions about every scene (the named object
    and the type drawn anew each time), with the rules of ``make_scenes``.

    Args:
        data: a dict from ``make_scenes`` (its ``"scene"`` and ``"image"``).
        per_scene: questions per scene (>= 1).
        seed: integer seed; the same arguments and seed give the same questions.
        shapes, colours: the values given to ``make_scenes`` (the scene
            stores indices into them).
        question_types: which of ``QUESTION_TYPES`` to ask.
        balance: count answers are skewed (a binomial count peaks in the
            middle); with ``True`` the count questions are resampled, with
            replacement and weights inverse to their answer's frequency, so
            that every count answer that occurs is about equally frequent.
            The other types are left as drawn (their answers are balanced
            by the symmetry of the scenes).

    Returns:
        A dict of ``(n * per_scene,)`` arrays ``"question"``, ``"answer"``,
        ``"question_type"``, ``"question_code"`` (``(n * per_scene,
        QUESTION_CODE_SIZE)``) and ``"scene_index"``, the row of ``data``
        each question is about (use it to pick the image).
    """
    if not isinstance(per_scene, (int, np.integer)) or per_scene < 1:
        raise ValueError(f"per_scene must be a positive integer; got {per_scene!r}")
    question_types = _check_choice("question_types", question_types, QUESTION_TYPES)
    rng = np.random.default_rng(seed)
    n = len(data["scene"]["n_objects"])
    index = np.repeat(np.arange(n), per_scene)
    scene = {k: v[index] for k, v in data["scene"].items()}
    image_size = data["image"].shape[1]
    questions, answers, qtype, code = _questions(
        rng, scene, image_size, shapes, colours, question_types
    )
    counts = np.flatnonzero(qtype == "count")
    if balance and counts.size:
        values, inverse, freq = np.unique(answers[counts], return_inverse=True, return_counts=True)
        weight = 1.0 / freq[inverse]
        pick = counts[rng.choice(len(counts), size=len(counts), p=weight / weight.sum())]
        for a in (questions, answers, qtype, code, index):
            a[counts] = a[pick]
    return {
        "question": questions,
        "answer": answers,
        "question_type": qtype,
        "question_code": code,
        "scene_index": index,
    }


def speak(captions, *, seed=0, noise=0.05, seconds=1.0, sampling_rate=SAMPLING_RATE):
    """Say each caption as a sequence of tones, one per word.

    Each vocabulary word has its own pitch on a pentatonic-like ladder; each
    recording gets a random speaker whose pitch is scaled by 0.8-1.25 and
    whose words last 50-70 ms, then Gaussian noise of std ``noise``.

    Args:
        captions: ``(n,)`` sentences made of ``VOCABULARY`` words.
        seed: integer seed for the speakers and the noise.
        noise: standard deviation of the additive noise (>= 0).
        seconds: length of every recording; longer speech is cut.
        sampling_rate: samples per second.

    Returns:
        ``(n, round(seconds * sampling_rate))`` float32 waveforms in about ``[-1, 1]``.
    """
    rng = np.random.default_rng(seed)
    index = {w: i for i, w in enumerate(VOCABULARY)}
    ladder = 200.0 * 2 ** ((np.arange(len(VOCABULARY)) % 24) / 8.0)
    words = [c.split() for c in captions]
    n = len(words)
    longest = max((len(w) for w in words), default=1)
    pitch = np.zeros((n, longest + 1), np.float32)  # the extra column is silence
    for i, ws in enumerate(words):
        pitch[i, : len(ws)] = ladder[[index[w] for w in ws]]
    length = int(round(seconds * sampling_rate))
    speaker = rng.uniform(0.8, 1.25, size=(n, 1)).astype(np.float32)
    word_seconds = rng.uniform(0.05, 0.07, size=(n, 1)).astype(np.float32)
    t = (np.arange(length, dtype=np.float32) / sampling_rate)[None, :]
    wave = np.empty((n, length), np.float32)
    for rows in np.array_split(np.arange(n), max(1, n // 256)):  # bounded memory
        slot = np.minimum((t / word_seconds[rows]).astype(np.int32), longest)
        freq = np.take_along_axis(pitch[rows], slot, axis=1) * speaker[rows]
        phase = np.cumsum(freq, axis=1) * np.float32(2 * np.pi / sampling_rate)
        within = (t % word_seconds[rows]) / word_seconds[rows]
        envelope = np.sqrt(np.sin(np.float32(np.pi) * within)) * (freq > 0)
        wave[rows] = 0.6 * envelope * np.sin(phase)
    if noise > 0:
        wave += rng.standard_normal(wave.shape, dtype=np.float32) * np.float32(noise)
    return wave
