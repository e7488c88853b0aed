"""The project's own files: configuration parses, notebooks are clean, environments agree."""

import json
import os
import pathlib
import re
import subprocess
import sys
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


def _constraints():
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    pins = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins.items()}


def test_environment_yml_installs_what_setup_sh_installs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python == "python=3.11"
    assert "3.11" in " ".join(project["classifiers"]) and project["requires-python"] == ">=3.11"
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == ["-c constraints.txt", '-e ".[dev]"']
    extras = project["optional-dependencies"]
    assert set(extras["dev"]) == {"crossmodal[tensorflow,jax,book,test,lint]"}
    assert {"tensorflow", "jax", "notebook", "book", "test", "gpu"} <= set(extras)


def test_constraints_pin_a_version_inside_every_range():
    """pyproject.toml states ranges; constraints.txt pins, inside them, every distribution the
    dev environment holds, so that the tests and the book are run with one exact set."""
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _constraints()
    requirements = list(project["dependencies"])
    for extra, listed in project["optional-dependencies"].items():
        if extra != "gpu":
            requirements += [r for r in listed if not r.startswith("crossmodal")]
    assert len(requirements) > 15
    for requirement in map(Requirement, requirements):
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in pins, f"{name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[name]), (str(requirement), pins[name])
    assert "crossmodal" not in pins


def test_no_backend_is_a_dependency_of_the_package():
    """TensorFlow, JAX and PyTorch are extras: the package installs beside any one of them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[=<>!~\[ ]", d)[0] for d in project["dependencies"]}
    assert "keras" in names and not names & {"tensorflow", "jax", "torch"}, names
    pins = _constraints()
    assert pins["jupyter-book"] == "1.0.4.post1" and pins["sphinx"].startswith("7.")


def _source_setup(tmp_path, **env):
    """Source a copy of scripts/setup.sh in a stand-in project with no dependencies."""
    (tmp_path / "scripts").mkdir(exist_ok=True)
    (tmp_path / "scripts" / "setup.sh").write_text((ROOT / "scripts" / "setup.sh").read_text())
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "standin"\nversion = "0"\n[project.optional-dependencies]\ndev = []\n'
        "[tool.setuptools]\npy-modules = []\n"
    )
    (tmp_path / "constraints.txt").write_text("")
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "CROSSMODAL_VENV", "CROSSMODAL_EXTRAS")
    }
    environment.update(env)
    return subprocess.run(
        [
            "bash",
            "-c",
            "source scripts/setup.sh && python -c "
            "'import sys; print(sys.prefix, *sys.version_info[:2])'",
        ],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
    )


def test_setup_sh_remakes_a_foreign_environment_and_installs_once(tmp_path):
    python = sys.executable
    foreign = tmp_path / ".venv" / "bin" / "python"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("#!/bin/sh\necho 'Python 3.10.0'\nexit 1\n")  # gone, or not 3.11-3.13
    foreign.chmod(0o755)
    first = _source_setup(tmp_path, CROSSMODAL_PYTHON=python)
    assert first.returncode == 0, first.stderr
    assert "making it again" in first.stderr
    prefix, major, minor = first.stdout.splitlines()[-1].split()
    assert pathlib.Path(prefix) == tmp_path / ".venv" and (3, 11) <= (int(major), int(minor))
    again = _source_setup(tmp_path, CROSSMODAL_PYTHON=python)
    assert again.returncode == 0 and "making it again" not in again.stderr
    assert "pip install" not in again.stdout + again.stderr and "Installing" not in again.stdout


def test_setup_sh_names_the_pythons_it_needs(tmp_path):
    done = _source_setup(tmp_path, CROSSMODAL_PYTHON="false")
    assert done.returncode == 1
    assert "needs Python 3.11, 3.12 or 3.13" in done.stderr
