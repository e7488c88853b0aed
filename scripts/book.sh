#!/usr/bin/env bash
# Build the course website into _build/html, executing every notebook afresh (the execution
# cache in _build/.jupyter_cache is cleared first, then filled for the other editions).
#
# bash scripts/book.sh --student builds the student edition instead: every solution hidden,
# into _build/student/html. It takes the notebooks' outputs from the cache (running only a
# notebook the cache lacks) and leaves _build/html and the cache as they are.
set -euo pipefail

student=false
case "${1:-}" in
    "") ;;
    --student) student=true ;;
    *) echo "usage: bash scripts/book.sh [--student]" >&2; exit 2 ;;
esac

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

# Notebooks run on the kernel named python3; make it the venv's.
python -m ipykernel install --sys-prefix --name python3 >/dev/null

if "$student"; then
    # What `jupyter-book build . -W -n --keep-going` does, with hide_solutions set on top of
    # _config.yml (the command line cannot set one Sphinx value) and its own output folder.
    python - <<'PY'
import sys
from pathlib import Path

from jupyter_book.sphinx import build_sphinx

root = Path.cwd()
result = build_sphinx(
    root, root / "_build" / "student" / "html", path_config=root / "_config.yml",
    noconfig=True, warningiserror=True, keep_going=True,
    confoverrides={"external_toc_path": (root / "_toc.yml").as_posix(), "nitpicky": True,
                   "latex_individualpages": False, "hide_solutions": True},
)
if result:
    print(f"the student edition failed to build: {result}", file=sys.stderr)
sys.exit(1 if result else 0)
PY
    echo "student edition: _build/student/html/index.html"
    exit
fi

rm -rf _build
jupyter-book build . -W -n --keep-going
