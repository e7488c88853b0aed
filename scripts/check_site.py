"""Check a built Jupyter Book site, offline.

Usage::

    python scripts/check_site.py _build/html [--no-browser]
    python scripts/check_site.py _build/student/html --student --full _build/html

The checks:

1. Links. Every ``.html`` page is parsed with :mod:`html.parser`. Each
   internal ``href``/``src`` must point to an existing file, and each
   ``#fragment`` must match an ``id`` (or ``<a name>``) in the target page.
2. Self-contained. No page loads a script from another host (MathJax is
   served from ``_static/mathjax``), and no figure in ``_images/`` has a
   transparent pixel (it would turn dark text unreadable in dark mode).
3. Browser. The site is served on 127.0.0.1 and opened in headless Chromium
   (Debian's ``/usr/bin/chromium`` and ``/usr/bin/chromedriver``), which can
   reach no other host. The home page and every page built from a notebook or
   a markdown file must load, have all article images decoded, contain no
   error output, and a chapter page (from a notebook) must show at least one
   figure. On a page with math, MathJax must have typeset every equation: no
   raw ``$$``, ``\\(`` or ``\\[`` left in the text, no TeX error. A screenshot of
   each page is written to ``<site>/../screenshots/``, and one chapter is
   shot again in light and in dark mode (``<chapter>-light.png``,
   ``<chapter>-dark.png``), which must differ in background colour.
4. Editions in other languages, built into a sub-folder of the site (``zh/``, with its own
   ``_sources``). Every English page has a twin there, with as many glued values and figures;
   the prose of a Chinese page is mostly CJK; in the browser every page of the edition passes
   the checks of 3., and each page's language link lands on its twin in the other edition.
5. Student edition (``--student``). No solution on any page, and as many
   exercises as the sources have ``{exercise}`` directives (and as the full
   site, with ``--full``); no text of a solution of the full site is left.

Exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import re
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Pages whose links are not checked (they are still valid link targets).
SKIP_SOURCE_DIRS = ("_static/", "_sources/", "_sphinx_design_static/")
SKIP_SOURCE_PAGES = {"genindex.html", "search.html", "py-modindex.html"}

#: Elements that myst-nb renders for stderr streams and exceptions.
ERROR_SELECTOR = ".output.stderr, div.output.traceback, .cell_output .traceback"
TRACEBACK_TEXT = "Traceback (most recent call last)"
#: A library's log warning that reached a cell's output (TensorFlow logs to the notebook).
LOG_WARNING = re.compile(r"^WARNING:[\w.]+:", re.M)
MIN_ARTICLE_TEXT = 200  # characters; a page that failed to render holds little more than its title
_ARTICLE_TEXT_JS = "const a = document.querySelector('article'); return a ? a.innerText : '';"

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: The browser resolves no host name but 127.0.0.1, so nothing outside the site can load.
OFFLINE_ARGS = ("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",)

#: TeX delimiters that are left in the text of a page where MathJax did not typeset.
RAW_MATH = ("$$", "\\(", "\\)", "\\[", "\\]")
#: Elements whose text is not prose: code, scripts and MathJax's own output.
NOT_PROSE = {"pre", "code", "script", "style", "textarea", "mjx-container"}
#: Elements without an end tag.
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
EXERCISE_DIRECTIVE = re.compile(r"^[ \t]*(?:`{3,}|:{3,})\{exercise(?:-start)?\}", re.MULTILINE)
MIN_SOLUTION_RUN = 40  # characters; shorter runs of a solution's text may well occur elsewhere
#: Classes of text that stays English in every edition: references, and docstrings (autodoc's
#: object descriptions, and modules' docstrings, marked by _ext/editions.py).
UNTRANSLATED = {"citation", "py", "untranslated"}
#: The script of each edition's language: most letters of its prose must be in it.
SCRIPTS = {"zh": re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")}
MIN_SCRIPT_SHARE = 0.5  # of the letters of a translated page's prose (the rest: names, symbols)
LATIN = re.compile(r"[A-Za-z]")


class _PageParser(HTMLParser):
    """Collect the anchors (ids, ``<a name>``) and the URLs of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: set[str] = set()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (name == "name" and tag == "a"):
                self.anchors.add(value)
            elif name in ("href", "src"):
                self.urls.append(value)

    handle_startendtag = handle_starttag


def _parse(path: Path) -> _PageParser:
    """Parse one HTML file."""
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser


def _is_source_page(rel: str) -> bool:
    """Whether the links of the page at site-relative path ``rel`` are checked.

    An edition in another language (``zh/``) has folders and pages of its own to skip.
    """
    for edition in ("", *(f"{name}/" for name in SCRIPTS)):
        inside = rel.removeprefix(edition)
        if inside.startswith(SKIP_SOURCE_DIRS) or inside in SKIP_SOURCE_PAGES:
            return False
    return True


def check_links(site_dir: str | os.PathLike) -> list[str]:
    """Return one ``"page: href (reason)"`` line per broken internal link."""
    site = Path(site_dir).resolve()
    pages = {p.resolve(): _parse(p) for p in sorted(site.rglob("*.html"))}
    problems = []
    for page, parsed in pages.items():
        rel = page.relative_to(site).as_posix()
        if not _is_source_page(rel):
            continue
        for url in parsed.urls:
            parts = urlsplit(url.strip())
            if parts.scheme or parts.netloc:
                continue  # external, mailto:, javascript:, data: ...
            if parts.path:
                base = site if parts.path.startswith("/") else page.parent
                target = (base / unquote(parts.path).lstrip("/")).resolve()
                if target.is_dir():
                    target = target / "index.html"
            else:
                target = page  # "#x" or "" refer to the page itself
            if not target.is_relative_to(site):
                problems.append(f"{rel}: {url} (outside the site)")
                continue
            if not target.is_file():
                problems.append(f"{rel}: {url} (missing file)")
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                if target not in pages:
                    pages[target] = _parse(target)
                if fragment not in pages[target].anchors:
                    problems.append(f"{rel}: {url} (missing anchor #{fragment})")
    return problems


def remote_scripts(site_dir: str | os.PathLike) -> list[str]:
    """Return one ``"page: src"`` line per ``<script src>`` on another host."""
    site = Path(site_dir)
    problems = []
    for page in sorted(site.rglob("*.html")):
        for url in _ScriptParser.scripts(page.read_text(encoding="utf-8", errors="replace")):
            parts = urlsplit(url.strip())
            if parts.scheme or parts.netloc:
                problems.append(f"{page.relative_to(site).as_posix()}: {url}")
    return problems


class _ScriptParser(HTMLParser):
    """Collect the ``src`` of every ``<script>``."""

    def __init__(self) -> None:
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        src = dict(attrs).get("src")
        if tag == "script" and src:
            self.srcs.append(src)

    @classmethod
    def scripts(cls, html: str) -> list[str]:
        parser = cls()
        parser.feed(html)
        parser.close()
        return parser.srcs


def transparent_images(site_dir: str | os.PathLike) -> tuple[int, list[str]]:
    """Return the number of PNG figures in ``_images/`` and those with a transparent pixel."""
    from PIL import Image

    pngs = sorted((Path(site_dir) / "_images").glob("*.png"))
    transparent = []
    for path in pngs:
        with Image.open(path) as image:
            if image.convert("RGBA").getextrema()[3][0] < 255:
                transparent.append(path.name)
    return len(pngs), transparent


def _close(stack: list, tag: str) -> list:
    """Pop and return the entries of ``stack`` down to the last open ``tag`` (none if not open)."""
    names = [entry[0] for entry in stack]
    if tag not in names:
        return []
    first = len(names) - 1 - names[::-1].index(tag)
    closed = stack[first:]
    del stack[first:]
    return closed


class _MathParser(HTMLParser):
    """Count math elements, those MathJax typeset, its errors, and collect the prose."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[list] = []  # [tag, is math, typeset]
        self.math = self.typeset = self.errors = 0
        self.prose: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        is_math = tag in ("div", "span") and "math" in classes
        self.math += is_math
        self.errors += tag == "mjx-merror"
        if tag == "mjx-container":
            for entry in self.stack:
                entry[2] = True
        self.stack.append([tag, is_math, False])

    def handle_endtag(self, tag: str) -> None:
        for _tag, is_math, typeset in _close(self.stack, tag):
            self.typeset += is_math and typeset

    def handle_data(self, data: str) -> None:
        if not any(entry[0] in NOT_PROSE for entry in self.stack):
            self.prose.append(data)


def math_problems(html: str) -> tuple[int, list[str]]:
    """Return the number of math elements in ``html`` (as the browser has it) and its problems.

    A problem is a math element (``div.math``, ``span.math``) without MathJax's output
    (``mjx-container``) in it, a TeX error, or a TeX delimiter left in the prose.
    """
    parser = _MathParser()
    parser.feed(html)
    parser.close()
    problems = []
    if parser.math > parser.typeset:
        problems.append(f"{parser.math - parser.typeset} of {parser.math} equations not typeset")
    if parser.errors:
        problems.append(f"{parser.errors} TeX error(s) (mjx-merror)")
    prose = "".join(parser.prose)
    left = [d for d in RAW_MATH if d in prose]
    if left:
        problems.append(f"raw TeX delimiters in the text: {' '.join(left)}")
    return parser.math, problems


class _ArticleParser(HTMLParser):
    """Collect the prose of a page's ``<article>`` and count its glued values and images."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[list] = []  # [tag]
        self.depth = None  # the depth of the stack at the article, None outside it
        self.glued = self.images = 0
        self.prose: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article" and self.depth is None:
            self.depth = len(self.stack)
        if self.depth is not None:
            classes = (dict(attrs).get("class") or "").split()
            self.glued += "pasted-text" in classes
            self.images += tag == "img"
        if tag not in VOID:
            classes = UNTRANSLATED.intersection((dict(attrs).get("class") or "").split())
            self.stack.append(["pre" if classes else tag])  # read no prose inside

    def handle_endtag(self, tag: str) -> None:
        _close(self.stack, tag)
        if self.depth is not None and len(self.stack) <= self.depth:
            self.depth = None

    def handle_data(self, data: str) -> None:
        if self.depth is not None and not any(entry[0] in NOT_PROSE for entry in self.stack):
            self.prose.append(data)


def article(path: Path) -> _ArticleParser:
    """Parse the article of one page."""
    parser = _ArticleParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser


def editions(site_dir: str | os.PathLike) -> list[str]:
    """The sub-folders of a site that hold an edition in another language (they have sources)."""
    return sorted(path.parent.name for path in Path(site_dir).glob("*/_sources"))


def check_edition(site_dir: str | os.PathLike, edition: str) -> tuple[list[str], int, float]:
    """Compare an edition's pages with their English twins.

    Returns the problems, the number of pages compared and the smallest share of the
    edition's script among the letters of a page's prose (1.0 for a language without one).
    """
    site = Path(site_dir)
    english, translated = source_pages(site), source_pages(site / edition)
    problems = [f"{edition}/{page}: missing" for page in english if page not in translated]
    problems += [f"{edition}/{page}: no English twin" for page in translated if page not in english]
    script = SCRIPTS.get(edition)
    lowest = 1.0
    for page in sorted(set(english) & set(translated)):
        original, twin = article(site / page), article(site / edition / page)
        for what, count in (("glued values", "glued"), ("figures", "images")):
            if getattr(original, count) != getattr(twin, count):
                problems.append(
                    f"{edition}/{page}: {getattr(twin, count)} {what}, "
                    f"the English page has {getattr(original, count)}"
                )
        if script:
            prose = "".join(twin.prose)
            native, latin = len(script.findall(prose)), len(LATIN.findall(prose))
            share = native / max(native + latin, 1)
            lowest = min(lowest, share)
            if share < MIN_SCRIPT_SHARE:
                problems.append(
                    f"{edition}/{page}: {share:.0%} of the prose's letters in {edition}"
                )
    return problems, len(set(english) & set(translated)), lowest


class _AdmonitionParser(HTMLParser):
    """Count the exercises and solutions of one page, and collect the text of each."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []  # (tag, "exercise", "solution" or None)
        self.exercises = self.solutions = 0
        self.solution_runs: list[str] = []
        self.other_runs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        kind = None
        if "admonition" in classes and "exercise" in classes:
            kind = "exercise"
            self.exercises += 1
        elif any(c.startswith("solution") for c in classes):
            kind = "solution"
            self.solutions += 1
        self.stack.append((tag, kind))

    def handle_endtag(self, tag: str) -> None:
        _close(self.stack, tag)

    def handle_data(self, data: str) -> None:
        run = " ".join(data.split())
        in_solution = any(kind == "solution" for _, kind in self.stack)
        (self.solution_runs if in_solution else self.other_runs).append(run)


def _admonitions(path: Path) -> _AdmonitionParser:
    parser = _AdmonitionParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser


def exercise_directives(site_dir: str | os.PathLike) -> int:
    """Number of ``{exercise}`` directives in the sources the site copies to ``_sources/``."""
    count = 0
    for src in sorted((Path(site_dir) / "_sources").rglob("*")):
        if not src.is_file():
            continue
        text = src.read_text(encoding="utf-8", errors="replace")
        if src.name.removesuffix(".txt").endswith(".ipynb"):
            cells = json.loads(text)["cells"]
            text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        count += len(EXERCISE_DIRECTIVE.findall(text))
    return count


def check_student(site_dir: str | os.PathLike, full_dir: str | os.PathLike | None = None):
    """Check the student edition; return ``(problems, exercises, solutions)``.

    It must have no solution and every exercise of the sources (and of ``full_dir``, the
    site with solutions, if given), and no text of a solution of ``full_dir`` may be left:
    a run of text at least ``MIN_SOLUTION_RUN`` long that is in a solution there, and not
    elsewhere on that page, must not be on the student page.
    """
    site = Path(site_dir)
    pages = source_pages(site)
    parsed = {page: _admonitions(site / page) for page in pages if (site / page).is_file()}
    exercises = sum(p.exercises for p in parsed.values())
    solutions = sum(p.solutions for p in parsed.values())
    problems = [f"{page}: {p.solutions} solution(s)" for page, p in parsed.items() if p.solutions]
    directives = exercise_directives(site)
    if exercises != directives:
        problems.append(f"{exercises} exercises, but the sources have {directives}")
    if full_dir is not None:
        full = Path(full_dir)
        full_exercises = 0
        for page, student in parsed.items():
            if not (full / page).is_file():
                problems.append(f"{page}: not in {full}")
                continue
            original = _admonitions(full / page)
            full_exercises += original.exercises
            others = " ".join(original.other_runs)
            text = " ".join(student.solution_runs + student.other_runs)
            leaked = sorted(
                {
                    run
                    for run in original.solution_runs
                    if len(run) >= MIN_SOLUTION_RUN and run not in others and run in text
                }
            )
            if leaked:
                problems.append(f"{page}: {len(leaked)} run(s) of solution text: {leaked[0]!r}")
        if exercises != full_exercises:
            problems.append(f"{exercises} exercises, but {full} has {full_exercises}")
    return problems, exercises, solutions


def source_pages(site_dir: str | os.PathLike, kinds=(".ipynb", ".md")) -> list[str]:
    """Site-relative paths of the HTML pages built from source files of ``kinds``.

    Jupyter Book copies each source file to ``_sources/`` (for example
    ``_sources/book/intro.ipynb``, or ``intro.ipynb.txt``), so they are found there.
    """
    sources = Path(site_dir) / "_sources"
    pages = []
    for src in sorted(sources.rglob("*")):
        rel = src.relative_to(sources).as_posix().removesuffix(".txt")
        for suffix in kinds:
            if rel.endswith(suffix):
                pages.append(rel[: -len(suffix)] + ".html")
    return pages


def chapter_pages(site_dir: str | os.PathLike) -> list[str]:
    """Site-relative paths of the HTML pages built from notebooks (the chapters)."""
    return source_pages(site_dir, kinds=(".ipynb",))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static file handler that does not log every request."""

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass


def _start_server(site: Path) -> http.server.ThreadingHTTPServer:
    """Serve ``site`` on a free port of 127.0.0.1 in a background thread."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _make_driver():
    """Headless Debian Chromium driven by Debian's chromedriver, never downloaded."""
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        *OFFLINE_ARGS,
    ):
        options.add_argument(arg)
    options.add_argument("--window-size=1280,2000")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_window_size(1280, 2000)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    return driver


def reaches_other_hosts(driver, port: int) -> bool:
    """Whether the browser can load a page by a host name (``localhost``), not 127.0.0.1 only."""
    try:
        driver.get(f"http://localhost:{port}/index.html")
    except Exception as exc:  # net::ERR_NAME_NOT_RESOLVED: the name was not resolved
        return "ERR_NAME_NOT_RESOLVED" not in str(exc)
    return True


def _wait(condition, timeout: float = 30.0, step: float = 0.25) -> bool:
    """Poll ``condition()`` until it is true; return whether it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


_IMAGES_JS = """
const root = document.querySelector("article") || document.querySelector("main");
const imgs = Array.from((root || document).querySelectorAll("img"));
imgs.forEach(img => { img.loading = "eager"; });
return imgs.map(img => [img.getAttribute("src") || "", img.complete, img.naturalWidth]);
"""


#: Resolves once MathJax has loaded and typeset the page (a string saying why not otherwise).
_MATHJAX_JS = """
const done = arguments[arguments.length - 1];
const start = Date.now();
(function poll() {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) {
    mj.startup.promise.then(() => done("ok"), err => done("MathJax failed: " + err));
  } else if (Date.now() - start > 30000) {
    done("MathJax did not load in 30 s");
  } else {
    setTimeout(poll, 100);
  }
})();
"""
_HAS_MATH_JS = "return document.querySelectorAll('div.math, span.math').length"
_ARTICLE_HTML_JS = "const a = document.querySelector('article'); return a ? a.outerHTML : '';"


def check_math(driver) -> tuple[int, list[str]]:
    """Wait for MathJax on the open page; return its number of equations and the problems."""
    if not driver.execute_script(_HAS_MATH_JS):
        return 0, []
    state = driver.execute_async_script(_MATHJAX_JS)
    equations, problems = math_problems(driver.execute_script(_ARTICLE_HTML_JS) or "")
    return equations, problems if state == "ok" else [state, *problems]


_EDITION_LINKS_JS = "return Array.from(document.querySelectorAll('a.edition-link'), a => a.href)"


def check_page(driver, base_url: str, page: str, chapter: bool, shots: Path, twin=None):
    """Open one page; return ``(problems, warnings, figure_count, equation_count, final_path)``.

    With ``twin`` (the site-relative path of the same page in the other edition), the page's
    language link must lead there.
    """
    problems, warnings = [], []
    driver.get(base_url + page)
    # Wait until loaded and the URL has not changed for a second: Jupyter
    # Book's index.html may be a meta-refresh redirect to the first chapter.
    last = {"url": None, "since": time.monotonic()}

    def settled() -> bool:
        try:
            url = driver.current_url
            done = driver.execute_script("return document.readyState") == "complete"
        except Exception:  # raised while the page navigates away
            return False
        if url != last["url"]:
            last.update(url=url, since=time.monotonic())
        return done and time.monotonic() - last["since"] >= 1.0

    if not _wait(settled):
        problems.append("page did not finish loading")
    if not _wait(lambda: all(c for _, c, _ in driver.execute_script(_IMAGES_JS)), 15):
        problems.append("images still loading after 15 s")
    images = driver.execute_script(_IMAGES_JS)
    for src, complete, width in images:
        if not complete or not width:
            problems.append(f"image not loaded: {src}")
    figures = sum(1 for _, complete, width in images if complete and width)
    if chapter and not figures:
        problems.append("no figure image in the article")
    text = driver.execute_script(_ARTICLE_TEXT_JS) or ""
    if len(text.strip()) < MIN_ARTICLE_TEXT:
        problems.append(f"the article holds {len(text.strip())} characters of text")
    errors = driver.execute_script(f"return document.querySelectorAll({ERROR_SELECTOR!r}).length")
    if errors:
        problems.append(f"{errors} error output(s) ({ERROR_SELECTOR})")
    body = driver.execute_script("return document.body.innerText")
    if TRACEBACK_TEXT in body:
        problems.append(f"page text contains {TRACEBACK_TEXT!r}")
    warnings = LOG_WARNING.findall(body)
    if warnings:
        problems.append(f"{len(warnings)} log warning(s) in the outputs: {warnings[0]}")
    equations, math = check_math(driver)
    problems += math
    try:
        for entry in driver.get_log("browser"):
            # Chrome asks for /favicon.ico on its own; a 404 there is noise.
            if entry.get("level") == "SEVERE" and "/favicon.ico" not in entry.get("message", ""):
                warnings.append(f"console: {entry.get('message')}")
    except Exception:  # not every driver exposes the console log
        pass
    shot = shots / (page[: -len(".html")] + ".png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(shot))
    landed = driver.current_url.removeprefix(base_url)
    if twin is not None:
        links = driver.execute_script(_EDITION_LINKS_JS)
        if not links:
            problems.append("no link to the page in the other language")
        else:
            driver.get(links[0])
            _wait(lambda: driver.execute_script("return document.readyState") == "complete")
            reached = driver.current_url.removeprefix(base_url)
            if reached != twin:
                problems.append(f"the language link leads to {reached}, not to {twin}")
    return problems, warnings, figures, equations, landed


_THEME_JS = """
localStorage.setItem("mode", arguments[0]);
localStorage.setItem("theme", arguments[0]);
"""
_FIRST_FIGURE_JS = """
const img = document.querySelector("article img");
if (img) { img.scrollIntoView({block: "center"}); }
"""
_LOOK_JS = """
return [document.documentElement.dataset.theme,
        getComputedStyle(document.body).backgroundColor];
"""


def check_modes(driver, base_url: str, page: str, shots: Path) -> list[str]:
    """Screenshot ``page`` in light and in dark mode, at its first figure; return the problems.

    The theme (pydata-sphinx-theme) keeps the reader's choice in ``localStorage``
    (``mode`` and ``theme``) and applies it as ``<html data-theme>`` on load.
    """
    problems, looks = [], {}
    for mode in ("light", "dark"):
        driver.get(base_url + page)
        driver.execute_script(_THEME_JS, mode)
        driver.refresh()
        _wait(lambda: driver.execute_script("return document.readyState") == "complete")
        _wait(lambda: all(c for _, c, _ in driver.execute_script(_IMAGES_JS)), 15)
        driver.execute_script(_FIRST_FIGURE_JS)
        theme, background = driver.execute_script(_LOOK_JS)
        looks[mode] = background
        if theme != mode:
            problems.append(f"{mode} mode: the page has data-theme={theme!r}")
        shot = shots / f"{page[: -len('.html')]}-{mode}.png"
        driver.save_screenshot(str(shot))
        print(f"     {mode} mode: background {background}, {shot}")
    driver.execute_script("localStorage.clear()")
    if looks["light"] == looks["dark"]:
        problems.append(f"light and dark mode have the same background {looks['light']}")
    return problems


def _report(problems: list[str], warnings: list[str]) -> None:
    for line in problems:
        print(f"     - {line}")
    for line in warnings:
        print(f"     warning: {line}")


def check_browser(site_dir: str | os.PathLike) -> int:
    """Check the home page and every page of the book; return the number of failed pages.

    Chapter pages (from notebooks) must also show at least one figure; the first chapter is
    also shot in light and dark mode. The pages of the other editions are checked the same
    way, and every page's language link must lead to its twin.
    """
    site = Path(site_dir).resolve()
    shots = site.parent / "screenshots"
    chapters = chapter_pages(site)
    pages = source_pages(site)
    # (path, is a chapter, the twin its language link must reach): the English pages, then
    # each page of the other editions
    other = editions(site)
    to_open = [("index.html", False, None)]
    to_open += [(page, page in chapters, f"{other[0]}/{page}" if other else None) for page in pages]
    for edition in other:
        translated = source_pages(site / edition)
        to_open.append((f"{edition}/index.html", False, None))
        to_open += [(f"{edition}/{page}", page in chapters, page) for page in translated]
    if not chapters:
        print(f"FAIL no chapter pages found under {site / '_sources'}")
        return 1
    server = _start_server(site)
    base_url = f"http://127.0.0.1:{server.server_address[1]}/"
    driver = _make_driver()
    failed = with_math = 0
    try:
        if reaches_other_hosts(driver, server.server_address[1]):
            print("FAIL the browser reaches hosts other than 127.0.0.1")
            failed += 1
        for page, chapter, twin in to_open:
            if not (site / page).is_file():
                print(f"FAIL {page}  missing")
                failed += 1
                continue
            try:
                problems, warnings, figures, equations, landed = check_page(
                    driver, base_url, page, chapter, shots, twin
                )
            except Exception as exc:  # e.g. a page load timeout
                problems, warnings, figures, equations = [f"browser error: {exc}"], [], 0, 0
                landed = page
            status = "FAIL" if problems else "ok  "
            name = page if landed == page else f"{page} -> {landed}"
            print(f"{status} {name}  {figures} figure(s), {equations} equation(s)")
            _report(problems, warnings)
            failed += bool(problems)
            with_math += landed == page and equations > 0
        print(f"{with_math} page(s) with math")
        print(f"light and dark mode: {chapters[0]}")
        problems = check_modes(driver, base_url, chapters[0], shots)
        _report(problems, [])
        failed += bool(problems)
    finally:
        driver.quit()
        server.shutdown()
        server.server_close()
    print(f"screenshots in {shots}")
    return failed


def main(argv: list[str] | None = None) -> int:
    """Run the link check and (unless ``--no-browser``) the browser check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site_dir", help="built site, e.g. _build/html")
    parser.add_argument("--no-browser", action="store_true", help="skip the browser check")
    parser.add_argument(
        "--student", action="store_true", help="the student edition: no solution, every exercise"
    )
    parser.add_argument("--full", help="with --student: the full site, e.g. _build/html")
    args = parser.parse_args(argv)
    site = Path(args.site_dir)
    if not (site / "index.html").is_file():
        print(f"error: {site / 'index.html'} not found; build the site first", file=sys.stderr)
        return 2

    broken = check_links(site)
    for line in broken:
        print(line)
    print(f"links: {len(broken)} broken")

    remote = remote_scripts(site)
    figures, transparent = transparent_images(site)
    problems = [f"a script from another host: {line}" for line in remote]
    problems += [f"_images/{name}: transparent pixels" for name in transparent]
    for edition in editions(site):
        twins, compared, share = check_edition(site, edition)
        problems += twins
        print(
            f"edition {edition}: {compared} pages beside their English twins, "
            f"{len(twins)} problem(s); lowest share of {edition} letters in a page's prose "
            f"{share:.0%}"
        )
    if args.student:
        student, exercises, solutions = check_student(site, args.full)
        problems += student
        print(f"student edition: {exercises} exercises, {solutions} solutions")
    for line in problems:
        print(line)
    print(
        f"self-contained: {len(remote)} remote script(s), "
        f"{len(transparent)} of {figures} figures with transparent pixels"
    )

    failed_pages = 0 if args.no_browser else check_browser(site)
    ok = not broken and not problems and not failed_pages
    print(
        f"{'OK' if ok else 'FAILED'}: {len(broken)} broken link(s), {len(problems)} other "
        f"problem(s), {failed_pages} failed page(s)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
