"""Check a built Jupyter Book site, offline.

Usage::

    python scripts/check_site.py _build/html [--no-browser]

Two checks:

1. Links. Every ``.html`` page is parsed with :mod:`html.parser`. Each
   internal ``href``/``src`` must point to an existing file, and each
   ``#fragment`` must match an ``id`` (or ``<a name>``) in the target page.
2. Browser. The site is served on 127.0.0.1 and opened in headless Chromium
   (Debian's ``/usr/bin/chromium`` and ``/usr/bin/chromedriver``). The home
   page and every chapter page (a page built from a notebook) must load, have
   all article images decoded, contain no error output, and a chapter page
   must show at least one figure. A screenshot of each page is written to
   ``<site>/../screenshots/``.

Exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
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
MIN_ARTICLE_TEXT = 200  # characters; a page that failed to render holds little more than its title
_ARTICLE_TEXT_JS = "const a = document.querySelector('article'); return a ? a.innerText : '';"

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


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
    """Whether the links of the page at site-relative path ``rel`` are checked."""
    return not (rel.startswith(SKIP_SOURCE_DIRS) or rel in SKIP_SOURCE_PAGES)


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
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    options.add_argument("--window-size=1280,2000")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_window_size(1280, 2000)
    driver.set_page_load_timeout(60)
    return driver


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


def check_page(driver, base_url: str, page: str, chapter: bool, shots: Path):
    """Open one page; return ``(problems, warnings, figure_count, final_path)``."""
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
    if TRACEBACK_TEXT in driver.execute_script("return document.body.innerText"):
        problems.append(f"page text contains {TRACEBACK_TEXT!r}")
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
    return problems, warnings, figures, landed


def check_browser(site_dir: str | os.PathLike) -> int:
    """Check the home page and every page of the book; return the number of failed pages.

    Chapter pages (from notebooks) must also show at least one figure.
    """
    site = Path(site_dir).resolve()
    shots = site.parent / "screenshots"
    chapters = chapter_pages(site)
    pages = source_pages(site)
    if not chapters:
        print(f"FAIL no chapter pages found under {site / '_sources'}")
        return 1
    server = _start_server(site)
    base_url = f"http://127.0.0.1:{server.server_address[1]}/"
    driver = _make_driver()
    failed = 0
    try:
        for page in ["index.html"] + pages:
            if not (site / page).is_file():
                print(f"FAIL {page}  missing")
                failed += 1
                continue
            try:
                problems, warnings, figures, landed = check_page(
                    driver, base_url, page, page in chapters, shots
                )
            except Exception as exc:  # e.g. a page load timeout
                problems, warnings, figures, landed = [f"browser error: {exc}"], [], 0, page
            status = "FAIL" if problems else "ok  "
            name = page if landed == page else f"{page} -> {landed}"
            print(f"{status} {name}  {figures} figure{'s' if figures != 1 else ''}")
            for line in problems:
                print(f"     - {line}")
            for line in warnings:
                print(f"     warning: {line}")
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
    parser.add_argument("--no-browser", action="store_true", help="check links only")
    args = parser.parse_args(argv)
    site = Path(args.site_dir)
    if not (site / "index.html").is_file():
        print(f"error: {site / 'index.html'} not found; build the site first", file=sys.stderr)
        return 2

    broken = check_links(site)
    for line in broken:
        print(line)
    print(f"links: {len(broken)} broken")

    failed_pages = 0 if args.no_browser else check_browser(site)
    ok = not broken and not failed_pages
    print(f"{'OK' if ok else 'FAILED'}: {len(broken)} broken link(s), {failed_pages} failed page(s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
