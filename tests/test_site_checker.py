"""Unit tests for the link checker in scripts/check_site.py (no browser needed)."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_site.py"


@pytest.fixture(scope="module")
def check_site():
    """Import scripts/check_site.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("check_site", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>"


@pytest.fixture
def site(tmp_path):
    """A two-page site with good links, one missing file and one missing anchor."""
    (tmp_path / "book").mkdir()
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "style.css").write_text("body {}")
    (tmp_path / "_static" / "skipped.html").write_text(_page('<a href="nowhere.html">x</a>'))
    (tmp_path / "search.html").write_text(_page('<a href="#nothing">x</a>'))
    (tmp_path / "index.html").write_text(
        _page(
            '<link rel="stylesheet" href="_static/style.css?v=1">'
            '<h1 id="top">Home</h1>'
            '<a href="#top">same page</a>'
            '<a href="">self</a>'
            '<a href="book/other.html">good file</a>'
            '<a href="book/other.html#anchor">good anchor</a>'
            '<a href="book/other.html#legacy">good a-name anchor</a>'
            '<a href="book/">directory with index</a>'
            '<a href="missing.html">broken file</a>'
            '<a href="https://example.org/missing.html">external</a>'
            '<a href="mailto:someone@example.org">mail</a>'
            '<img src="data:image/png;base64,AAAA">'
        )
    )
    (tmp_path / "book" / "index.html").write_text(_page("<p>book</p>"))
    (tmp_path / "book" / "other.html").write_text(
        _page(
            '<section id="anchor"><a name="legacy"></a>'
            '<a href="../index.html#top">back</a>'
            '<a href="#no-such-anchor">broken anchor</a></section>'
        )
    )
    return tmp_path


def test_reports_exactly_the_broken_links(check_site, site):
    problems = check_site.check_links(site)
    assert len(problems) == 2, problems
    assert any(p.startswith("index.html: missing.html (") for p in problems)
    assert any(p.startswith("book/other.html: #no-such-anchor (") for p in problems)


def test_good_and_skipped_links_are_not_reported(check_site, site):
    text = "\n".join(check_site.check_links(site))
    for good in ("#top", "book/other.html#anchor", "#legacy", "style.css", "example.org"):
        assert good not in text
    assert "nowhere.html" not in text  # _static/ pages are not link sources
    assert "#nothing" not in text  # nor is search.html


def test_clean_site_has_no_problems(check_site, tmp_path):
    (tmp_path / "index.html").write_text(_page('<p id="a"></p><a href="index.html#a">ok</a>'))
    assert check_site.check_links(tmp_path) == []


def test_chapter_pages_come_from_notebook_sources(check_site, tmp_path):
    sources = tmp_path / "_sources" / "book"
    sources.mkdir(parents=True)
    (sources / "intro.ipynb").write_text("{}")
    (sources / "notes.md").write_text("# notes")
    (sources / "faq.md.txt").write_text("# faq")
    assert check_site.chapter_pages(tmp_path) == ["book/intro.html"]
    assert check_site.source_pages(tmp_path) == [
        "book/faq.html",
        "book/intro.html",
        "book/notes.html",
    ]


TYPESET = '<mjx-container class="MathJax"><mjx-math><mjx-mi>x</mjx-mi></mjx-math></mjx-container>'


@pytest.mark.parametrize(
    "article",
    [
        "<article><p>No math at all, and $5 is not a delimiter.</p></article>",
        f'<article><p>Inline <span class="math notranslate">{TYPESET}</span>.</p>'
        f'<div class="math notranslate"><span class="eqno">(1)</span>{TYPESET}</div></article>',
        f'<article><span class="math">{TYPESET}</span><img src="a.png"><br>'
        r"<pre>print('\(not math\)', '$$')</pre><p>Code: <code>re.compile(r'\[')</code></p>"
        "</article>",
    ],
    ids=["no-math", "typeset", "delimiters-in-code"],
)
def test_typeset_math_passes(check_site, article):
    assert check_site.math_problems(article)[1] == []


@pytest.mark.parametrize(
    "article, problem",
    [
        (r'<article><p>Inline <span class="math">\(x\)</span>.</p></article>', "1 of 1 equations"),
        (
            rf'<article><span class="math">{TYPESET}</span><div class="math">\[y\]</div></article>',
            "1 of 2 equations",
        ),
        (
            "<article><p>The loss $$L = x$$ is raw.</p></article>",
            "raw TeX delimiters in the text: $$",
        ),
        (r"<article><p>Raw \( x \) left.</p></article>", r"raw TeX delimiters in the text: \( \)"),
        (
            f'<article><span class="math">{TYPESET[:-16]}<mjx-merror>x</mjx-merror>'
            "</mjx-container></span></article>",
            "1 TeX error(s)",
        ),
    ],
    ids=["inline-not-typeset", "display-not-typeset", "raw-dollars", "raw-parens", "tex-error"],
)
def test_untypeset_math_fails(check_site, article, problem):
    problems = check_site.math_problems(article)[1]
    assert any(p.startswith(problem) for p in problems), problems


def test_math_elements_are_counted(check_site):
    article = f'<article><span class="math">{TYPESET}</span><div class="math">{TYPESET}</div>'
    assert check_site.math_problems(article + "</article>") == (2, [])


def test_remote_scripts_are_reported(check_site, tmp_path):
    (tmp_path / "index.html").write_text(
        _page(
            '<script src="_static/mathjax/tex-chtml.js"></script>'
            "<script>window.MathJax = {}</script>"
            '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
            '<script src="//example.org/x.js"></script>'
        )
    )
    problems = check_site.remote_scripts(tmp_path)
    assert problems == [
        "index.html: https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js",
        "index.html: //example.org/x.js",
    ]


def test_transparent_images_are_reported(check_site, tmp_path):
    from PIL import Image

    (tmp_path / "_images").mkdir()
    Image.new("RGB", (4, 4), "white").save(tmp_path / "_images" / "rgb.png")
    Image.new("RGBA", (4, 4), (255, 255, 255, 255)).save(tmp_path / "_images" / "opaque.png")
    clear = Image.new("RGBA", (4, 4), (255, 255, 255, 255))
    clear.putpixel((1, 1), (0, 0, 0, 0))
    clear.save(tmp_path / "_images" / "clear.png")
    assert check_site.transparent_images(tmp_path) == (3, ["clear.png"])


EXERCISE = '<div class="exercise admonition" id="ex-{0}"><p>Exercise {0}: do it.</p></div>'
SOLUTION = (
    '<div class="solution admonition" id="sol-{0}"><p>Solution to Exercise {0}</p>'
    '<section id="solution-content"><p>The answer is that the gradient vanishes '
    "on every masked position.</p></section></div>"
)


def _edition(root, solutions: bool, leak: bool = False):
    """A one-chapter site, with or without its two solutions (or with one's text left)."""
    (root / "_sources" / "book").mkdir(parents=True)
    cells = [
        {"cell_type": "markdown", "source": ["```{exercise} One\n", "Do it.\n", "```\n"]},
        {"cell_type": "code", "source": ["```{exercise} not a directive\n"]},
        {"cell_type": "markdown", "source": [":::{exercise}\n", ":::\n"]},
    ]
    (root / "_sources" / "book" / "ch.ipynb").write_text(json.dumps({"cells": cells}))
    body = EXERCISE.format(1) + (SOLUTION.format(1) if solutions else "")
    body += EXERCISE.format(2) + (SOLUTION.format(2) if solutions else "")
    if leak:
        body += "<p>The answer is that the gradient vanishes on every masked position.</p>"
    (root / "book").mkdir()
    (root / "book" / "ch.html").write_text(_page(body))
    return root


def test_student_edition_without_solutions_passes(check_site, tmp_path):
    full = _edition(tmp_path / "full", solutions=True)
    student = _edition(tmp_path / "student", solutions=False)
    assert check_site.check_student(student, full) == ([], 2, 0)
    problems, exercises, solutions = check_site.check_student(full)
    assert (exercises, solutions) == (2, 2) and problems == ["book/ch.html: 2 solution(s)"]


def test_student_edition_with_solution_text_or_missing_exercise_fails(check_site, tmp_path):
    full = _edition(tmp_path / "full", solutions=True)
    leaky = _edition(tmp_path / "leaky", solutions=False, leak=True)
    problems = check_site.check_student(leaky, full)[0]
    assert len(problems) == 1 and "1 run(s) of solution text" in problems[0]
    short = _edition(tmp_path / "short", solutions=False)
    page = short / "book" / "ch.html"
    page.write_text(page.read_text().replace(EXERCISE.format(2), ""))
    assert check_site.check_student(short, full)[0] == [
        "1 exercises, but the sources have 2",
        f"1 exercises, but {full} has 2",
    ]


def _article(prose: str, glued: int = 2, figures: int = 1) -> str:
    values = " ".join(f'<span class="pasted-text">0.{i}</span>' for i in range(glued))
    images = '<img src="../_images/f.png" alt="a figure">' * figures
    return _page(
        f'<nav><p>{"sidebar text " * 50}</p></nav><article class="bd-article"><h1>{prose}</h1>'
        f"<p>{prose} {values}</p>{images}<pre>code stays English in every edition</pre>"
        '<div class="citation"><p>A. Author. A paper title in English. 2020.</p></div>'
        '<dl class="py function"><dd><p>A docstring, in English everywhere.</p></dd></dl>'
        "</article>"
    )


def _two_editions(root, translated: dict[str, str]):
    """An English site with pages a and b, and a zh edition with the pages given."""
    for edition, pages in (("", {"a": "Fusion helps", "b": "Mapping"}), ("zh/", translated)):
        for name, prose in pages.items():
            (root / f"{edition}_sources" / "book").mkdir(parents=True, exist_ok=True)
            (root / f"{edition}_sources" / "book" / f"{name}.ipynb").write_text("{}")
            (root / f"{edition}book").mkdir(parents=True, exist_ok=True)
            (root / f"{edition}book" / f"{name}.html").write_text(_article(prose))
    return root


def test_an_edition_is_compared_with_its_english_twins(check_site, tmp_path):
    site = _two_editions(tmp_path, {"a": "多模态融合确实有帮助 (fusion)", "b": "跨模态映射与对齐"})
    assert check_site.editions(site) == ["zh"]
    problems, compared, share = check_site.check_edition(site, "zh")
    assert problems == [] and compared == 2
    assert 0.5 < share < 1  # "fusion": six Latin letters beside ten CJK characters
    parsed = check_site.article(site / "zh" / "book" / "a.html")
    assert (parsed.glued, parsed.images) == (2, 1)
    assert "sidebar" not in "".join(parsed.prose)
    assert "English" not in "".join(parsed.prose)  # code, references and docstrings


def test_an_edition_with_a_missing_page_value_or_figure_or_english_prose_fails(
    check_site, tmp_path
):
    site = _two_editions(tmp_path, {"a": "Fusion helps, still in English", "c": "额外的页面"})
    (site / "zh" / "book" / "a.html").write_text(_article("融合有帮助", glued=1, figures=0))
    problems = check_site.check_edition(site, "zh")[0]
    assert problems == [
        "zh/book/b.html: missing",
        "zh/book/c.html: no English twin",
        "zh/book/a.html: 1 glued values, the English page has 2",
        "zh/book/a.html: 0 figures, the English page has 1",
    ]
    (site / "zh" / "book" / "a.html").write_text(_article("Fusion helps, still in English"))
    problems = check_site.check_edition(site, "zh")[0]
    assert problems[-1] == "zh/book/a.html: 0% of the prose's letters in zh"


def test_an_editions_own_static_files_are_not_checked_for_links(check_site):
    assert not check_site._is_source_page("zh/_static/webpack-macros.html")
    assert not check_site._is_source_page("zh/search.html")
    assert check_site._is_source_page("zh/book/mapping.html")
    assert check_site._is_source_page("book/zh/_static.html")
