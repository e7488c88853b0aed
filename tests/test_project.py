"""The project's own files: configuration parses, notebooks are clean, environments agree."""

import json
import pathlib
import re
import tomllib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _toc_files(entries):
    for entry in entries:
        if "file" in entry:
            yield entry["file"]
        yield from _toc_files(entry.get("chapters", []) + entry.get("sections", []))


def test_book_configuration_parses_and_is_strict():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    execute = config["execute"]
    assert execute["execute_notebooks"] in {"force", "cache"}
    assert execute["allow_errors"] is False and execute["raise_on_error"] is True
    assert execute["timeout"] > 0
    assert config["only_build_toc_files"] is True
    assert "sphinx_exercise" in config["sphinx"]["extra_extensions"]
    assert all((ROOT / bib).exists() for bib in config["bibtex_bibfiles"])
    assert config["launch_buttons"]["colab_url"] and config["repository"]["url"]


def test_toc_lists_existing_pages_in_the_article_order():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + list(_toc_files(toc["parts"]))
    for name in files:
        assert any((ROOT / f"{name}{ext}").exists() for ext in (".md", ".ipynb")), name
    order = ["Foundations", "Methods", "Practice", "Appendices"]
    captions = [part["caption"] for part in toc["parts"]]
    assert captions == [c for c in order if c in captions]


def test_notebooks_are_stored_without_outputs():
    notebooks = sorted((ROOT / "book").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        notebook = json.loads(path.read_text())
        assert notebook["metadata"]["kernelspec"]["name"] == "python3", path.name
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, path.name


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    version = python.split("=")[1]
    low, high = re.findall(r"[\d.]+", project["requires-python"])
    assert tuple(map(int, low.split("."))) <= tuple(map(int, version.split("."))) \
        < tuple(map(int, high.split(".")))
    assert "pip" in env["dependencies"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == ['-e ".[dev]"']
    extras = project["optional-dependencies"]
    assert set(extras["dev"]) == {"crossmodal[tensorflow,jax,book,test]"}
    assert {"tensorflow", "jax", "book", "test", "gpu"} <= set(extras)


def test_no_backend_is_a_dependency_of_the_package():
    """TensorFlow, JAX and PyTorch are extras: the package installs beside any one of them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[=<>!~\[ ]", d)[0] for d in project["dependencies"]}
    assert "keras" in names and not names & {"tensorflow", "jax", "torch"}, names
    book = dict(d.split("==") for d in project["optional-dependencies"]["book"])
    assert book["jupyter-book"] == "1.0.4.post1" and book["sphinx"].startswith("7.")
