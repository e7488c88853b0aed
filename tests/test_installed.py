"""Every chapter, run as a reader runs it: from the built wheel, in a fresh environment outside
the repository.

A session fixture builds the wheel, installs it with its ``tensorflow`` and ``test`` extras (at the
versions of ``constraints.txt``) into a new virtual environment made by ``$CROSSMODAL_WHEEL_PYTHON``
(default: this interpreter), and copies the notebooks, and nothing else, into a temporary folder;
each chapter then runs there under nbval with its claims strict. The chapters run on TensorFlow, so
the tests are skipped on another backend.
"""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))

pytestmark = pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
    reason="the chapters run on TensorFlow (scripts/test_jax.sh runs two of them in place on JAX)",
)


def _run(command, **kwargs):
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, (
        f"{' '.join(map(str, command))}\n{done.stdout[-6000:]}\n{done.stderr[-6000:]}"
    )
    return done.stdout


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """(python of the fresh environment, folder holding copies of the chapters, its environment)."""
    tmp = tmp_path_factory.mktemp("installed")
    # Build from a copy of what the wheel is made of, so that no earlier build in the clone
    # (a stale build/ folder) can slip into it; the copy resolves the records' symlinks.
    source = tmp / "source"
    shutil.copytree(
        ROOT / "crossmodal", source / "crossmodal", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", tmp / "dist", source])
    (wheel,) = (tmp / "dist").glob("crossmodal-*.whl")
    interpreter = os.environ.get("CROSSMODAL_WHEEL_PYTHON", sys.executable)
    _run([interpreter, "-m", "venv", tmp / "venv"])
    python = tmp / "venv" / "bin" / "python"
    _run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "-c",
            ROOT / "constraints.txt",
            f"crossmodal[tensorflow,test] @ {wheel.as_uri()}",
        ]
    )
    chapters = tmp / "chapters"
    chapters.mkdir()
    for chapter in CHAPTERS:
        shutil.copy(chapter, chapters)
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTEST_ADDOPTS")
    }
    env.update(
        PATH=f"{python.parent}{os.pathsep}{env['PATH']}",
        CROSSMODAL_CLAIMS="strict",
        KERAS_BACKEND="tensorflow",
    )
    return python, chapters, env


def test_the_package_is_imported_from_the_fresh_environment(installed):
    python, chapters, env = installed
    where = _run(
        [
            python,
            "-c",
            "import crossmodal, sys; print(crossmodal.__file__); "
            "print(sys.version_info[0], sys.version_info[1])",
        ],
        cwd=chapters,
        env=env,
    )
    path, version = where.splitlines()
    assert pathlib.Path(path).is_relative_to(python.parents[1]), path
    wanted = os.environ.get("CROSSMODAL_WHEEL_PYTHON")
    print(
        f"chapters run on Python {version.replace(' ', '.')}" + (f" ({wanted})" if wanted else "")
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_from_the_installed_package(installed, chapter):
    python, chapters, env = installed
    _run(
        [
            python,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--nbval-lax",
            "--nbval-current-env",
            "--nbval-cell-timeout=600",
            chapter.name,
        ],
        cwd=chapters,
        env=env,
    )
