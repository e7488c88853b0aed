"""The Chinese edition's catalogues: complete, current, and faithful to the markup.

The English pages are the only source; ``locales/<lang>/LC_MESSAGES/book/<page>.po`` holds one
translated string per paragraph, heading, caption or table cell (``bash scripts/translations.sh``
refreshes them). A translation may reword anything but what the build reads: roles (glued numbers,
cross-references, citations), inline math, inline code and links must come through unchanged.
With ``CROSSMODAL_TEMPLATES`` set to the pages' message templates (``bash scripts/translations.sh
--check`` extracts them and runs this file), the catalogues must hold exactly the pages' messages.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

babel_pofile = pytest.importorskip("babel.messages.pofile")

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
CATALOGUES = sorted(LOCALES.glob("*/LC_MESSAGES/book/*.po"))
TEMPLATES = os.environ.get("CROSSMODAL_TEMPLATES")

#: ``{role}`target``` or ``{role}`title <target>```: the role and its target must survive;
#: a title may be translated.
ROLE = re.compile(r"\{([\w:-]+)\}`(?:[^`<]*<([^`>]+)>|([^`]*))`")
INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)([^$]+?)(?<!\\)\$")
#: Code spans, once the roles (whose targets are in backticks too) are taken out.
CODE = re.compile(r"`([^`]+)`")
URL = re.compile(r"https?://[^\s)>\]]+")


def read(catalogue: Path):
    with catalogue.open("rb") as handle:
        return babel_pofile.read_po(handle)


def entries(catalogue: Path):
    """The catalogue's messages (not its header, not obsolete entries)."""
    return [message for message in read(catalogue) if message.id]


def markup(text: str) -> Counter:
    """What the build reads in a string: roles and their targets, math, code, links."""
    found = Counter()
    for role, titled_target, plain_target in ROLE.findall(text):
        found[("role", role, (titled_target or plain_target).strip())] += 1
    rest = ROLE.sub(" ", text)
    found.update(("math", span.strip()) for span in INLINE_MATH.findall(rest))
    rest = INLINE_MATH.sub(" ", rest)
    found.update(("code", span) for span in CODE.findall(rest))
    found.update(("url", url) for url in URL.findall(text))
    return found


def test_markup_reads_roles_math_code_and_links():
    text = (
        "Fusion wins by {glue:text}`gap:.1%` ({numref}`Figure %s <fig-a>`), see {doc}`mapping`, "
        "$z_m \\in \\mathbb{R}^d$ and `fit`, <https://keras.io>."
    )
    found = markup(text)
    assert found[("role", "glue:text", "gap:.1%")] == 1
    assert found[("role", "numref", "fig-a")] == 1
    assert found[("role", "doc", "mapping")] == 1
    assert found[("math", "z_m \\in \\mathbb{R}^d")] == 1
    assert found[("code", "fit")] == 1
    assert found[("url", "https://keras.io")] == 1
    assert sum(found.values()) == 6
    # A translated title keeps the target; a typed number in place of a glued one does not.
    assert markup("见 {numref}`图 %s <fig-a>`") == Counter({("role", "numref", "fig-a"): 1})
    assert markup("融合提高了 12.3%") != markup("融合提高了 {glue:text}`gap:.1%`")


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda path: path.stem)
def test_every_entry_is_translated_and_none_is_fuzzy(catalogue):
    messages = entries(catalogue)
    untranslated = [message.id for message in messages if not message.string]
    fuzzy = [message.id for message in messages if message.fuzzy]
    assert not untranslated, (
        f"{len(untranslated)} of {len(messages)} untranslated, first: {untranslated[0]!r}"
    )
    assert not fuzzy, f"{len(fuzzy)} fuzzy, first: {fuzzy[0]!r}"


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda path: path.stem)
def test_translation_keeps_roles_math_code_and_links(catalogue):
    changed = [
        (message.id, sorted((markup(message.id) - markup(message.string)).elements()))
        for message in entries(catalogue)
        if message.string and markup(message.id) != markup(message.string)
    ]
    assert not changed, f"{len(changed)} entries change the markup, first: {changed[0]}"


def test_there_is_a_catalogue_for_every_page():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    pages = set(re.findall(r"(?:root|file): book/([\w-]+)", toc))
    for language in sorted({path.parts[-4] for path in CATALOGUES}):
        have = {path.stem for path in CATALOGUES if path.parts[-4] == language}
        assert have == pages, f"{language}: missing {pages - have}, extra {have - pages}"
    assert CATALOGUES, "no catalogue under locales/"


@pytest.mark.skipif(
    not TEMPLATES, reason="needs the pages' message templates: bash scripts/translations.sh --check"
)
@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda path: path.stem)
def test_catalogue_holds_exactly_the_messages_of_its_page(catalogue):
    template = Path(TEMPLATES) / "book" / f"{catalogue.stem}.pot"
    want = {message.id for message in entries(template)}
    have = {message.id for message in entries(catalogue)}
    assert not want - have, f"{len(want - have)} new messages, first: {sorted(want - have)[0]!r}"
    assert not have - want, f"{len(have - want)} stale messages, first: {sorted(have - want)[0]!r}"
