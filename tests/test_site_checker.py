"""Unit tests for the link checker in scripts/check_site.py (no browser needed)."""

import importlib.util
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
