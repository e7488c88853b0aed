"""Every chapter links the notation page and writes its mathematics without the retired symbols."""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))
NOTATION = (ROOT / "book" / "notation.md").read_text()
# Text inside these commands is words or a name, not symbols: \mathcal{N} is not the retired N.
WORDS = re.compile(r"\\(?:mathcal|mathrm|text|operatorname|mathbb|texttt)\{[^{}]*\}")


def retired_symbols():
    """The first column of the notation page's "Retired symbols" table, as written there."""
    section = NOTATION.split("## Retired symbols", 1)[1]
    return re.findall(r"^\| `([^`]+)` \|", section, re.M)


def pattern(symbol):
    """A single letter is retired as a token (d_k keeps its k); anything longer literally."""
    if re.fullmatch(r"[A-Za-z]", symbol):
        return re.compile(rf"(?<![A-Za-z\\])(?<!d_){symbol}(?![A-Za-z])")
    return re.compile(re.escape(symbol) + r"(?![A-Za-z0-9])")


def mathematics(path):
    cells = json.loads(path.read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    spans = re.findall(r"\$\$(.+?)\$\$", text, re.S)
    spans += re.findall(
        r"(?<!\$)\$([^$\n]+?)\$(?!\$)", re.sub(r"\$\$.+?\$\$", "", text, flags=re.S)
    )
    spans += re.findall(r"```\{math\}[^\n]*\n(.*?)```", text, re.S)
    return [WORDS.sub("", span) for span in spans]


def test_the_notation_page_lists_retired_symbols_and_is_in_the_table_of_contents():
    assert {"N", "k", "h_m"} <= set(retired_symbols())
    assert "file: book/notation" in (ROOT / "_toc.yml").read_text()


def test_the_patterns_catch_what_they_retire_and_nothing_else():
    assert pattern("N").search(r"\sum_{i=1}^{N} z_i")
    assert not pattern("N").search(WORDS.sub("", r"\mathcal{N}(0, 1) + M"))
    assert pattern("k").search(r"\mathbb{R}^{k}")
    assert not pattern("k").search(r"\sqrt{d_k} + \log K")
    assert pattern("h_m").search(r"h_m = f_m(x_m)") and not pattern("h_m").search(r"h_{max}")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_links_the_notation_page(path):
    cells = json.loads(path.read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert re.search(r"\{doc\}`[^`]*notation`|\]\(notation(\.md)?\)", text)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_mathematics_uses_no_retired_symbol(path):
    found = sorted(
        {
            (symbol, span.strip()[:60])
            for span in mathematics(path)
            for symbol in retired_symbols()
            if pattern(symbol).search(span)
        }
    )
    assert not found, found
