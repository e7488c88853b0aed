"""The book as a whole: chapter template, figures, citations and the API page."""

import importlib
import inspect
import json
import pathlib
import pkgutil
import re
import sys

import pytest

import crossmodal

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))
BIB_KEYS = set(re.findall(r"@\w+\{([^,\s]+),", (ROOT / "book" / "references.bib").read_text()))


def _markdown(path):
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_follows_the_template(path):
    text = _markdown(path)
    assert re.search(r"you will learn|learning goals", text, re.I), "learning goals"
    assert re.search(r"runs in\W+about \d+ s", text, re.I), "running time"
    for heading in ("## Summary", "## Exercises", "## References"):
        assert heading in text, heading
    exercises = set(re.findall(r"```\{exercise\}[^\n]*\n:label: (\S+)", text))
    solutions = set(re.findall(r"```\{solution(?:-start)?\} (\S+)", text))
    assert len(exercises) >= 3 and exercises == solutions, (exercises, solutions)
    assert "{footbibliography}" in text and re.search(r"\{footcite(:[tp])?\}`", text)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_figure_has_alt_text_and_a_caption(path):
    figures = re.findall(r"```\{glue:figure\} (\S+)\n(.*?)```", _markdown(path), re.S)
    assert figures, "a chapter shows at least one figure"
    for key, body in figures:
        assert re.search(r"^:alt: \S.{20,}", body, re.M), f"{key}: alt text"
        caption = "\n".join(line for line in body.splitlines() if not line.startswith(":"))
        assert len(caption.strip()) > 20, f"{key}: caption"


def test_every_citation_resolves():
    pages = [_markdown(p) for p in CHAPTERS] + [p.read_text() for p in (ROOT / "book").glob("*.md")]
    cited = set()
    for text in pages:
        for group in re.findall(r"\{(?:foot)?cite(?::\w+)?\}`([^`]+)`", text):
            cited.update(key.strip() for key in group.split(","))
    assert cited and cited <= BIB_KEYS, sorted(cited - BIB_KEYS)


def _public_names():
    for info in pkgutil.walk_packages(crossmodal.__path__, "crossmodal."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if name.startswith("_") or not (inspect.isclass(value) or inspect.isfunction(value)):
                continue
            if value.__module__ == info.name:
                yield info.name, name, value


def test_api_page_documents_every_public_name():
    api = (ROOT / "book" / "api.md").read_text()
    documented = set(re.findall(r"```\{eval-rst\}\n\.\. automodule:: (\S+)\n   :members:", api))
    for module, name, value in _public_names():
        assert module in documented, f"{module} is missing from book/api.md"
        assert value.__doc__, f"{module}.{name} has no docstring of its own"


def _code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_takes_a_seed_that_benchmarks_claims_can_set(path):
    parameters = [c for c in _code_cells(path) if "parameters" in c["metadata"].get("tags", [])]
    assert len(parameters) == 1, "one cell tagged 'parameters'"
    assert len(re.findall(r"^SEED = 0\b", "".join(parameters[0]["source"]), re.M)) == 1


def test_every_claim_of_the_book_has_its_own_name():
    names = []
    for path in CHAPTERS:
        for cell in _code_cells(path):
            names += re.findall(r"expect\(\s*f?\"([^\"]+)\"", "".join(cell["source"]))
    assert len(names) > 50
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_chapter_reads_a_clock(path):
    """Timings vary from machine to machine: they live in benchmarks/, never in a chapter."""
    source = "\n".join("".join(c["source"]) for c in _code_cells(path))
    clocks = re.findall(r"\btime\.\w+\(|\bperf_counter\b|\bmonotonic\b|\bdatetime\.now\b", source)
    assert not clocks, clocks


INSTALL_CELL = """\
# On Colab or Binder: install the course package, with what the chapters import beside it,
# when it is missing.
import importlib.util

PACKAGE = ("crossmodal[tensorflow,notebook] @ "
           "git+https://github.com/crossmodal-course/crossmodal")
if not all(importlib.util.find_spec(name) for name in ("crossmodal", "myst_nb")):
    %pip install --quiet "{PACKAGE}\""""

# The distribution that provides each module a chapter may import, beside the standard library.
DISTRIBUTIONS = {
    "crossmodal": "crossmodal",
    "keras": "keras",
    "numpy": "numpy",
    "scipy": "scipy",
    "sklearn": "scikit-learn",
    "matplotlib": "matplotlib",
    "tensorflow": "tensorflow",
    "myst_nb": "myst-nb",
    "IPython": "ipykernel",
}


def _installed_by(extras):
    """The distributions ``pip install crossmodal[extras]`` brings, read from pyproject.toml."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"]) + ["crossmodal"]
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    return {re.match(r"[\w.-]+", r).group().lower() for r in requirements}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_installs_what_it_imports_and_reads_nothing_beside_it(path):
    """A chapter copied out of the repository (Colab, a download) runs: its first code cell
    installs the package with every distribution the chapter imports, and no code reads a path
    outside the chapter (the long runs it quotes ship with the package: crossmodal.records)."""
    cells = _code_cells(path)
    assert "".join(cells[0]["source"]) == INSTALL_CELL
    extras = re.search(r"crossmodal\[([\w,]+)\]", INSTALL_CELL).group(1).split(",")
    source = "\n".join("".join(c["source"]) for c in cells[1:])
    modules = set(re.findall(r"^\s*(?:from|import) (\w+)", source, re.M))
    imported = {DISTRIBUTIONS.get(m, m) for m in modules - set(sys.stdlib_module_names)}
    assert imported <= _installed_by(extras), imported - _installed_by(extras)
    code = "\n".join(line.split("#")[0] for line in source.splitlines())
    assert not re.search(r"\.\./|benchmarks", code), "reads a path beside the chapter"
