#!/usr/bin/env bash
# Build the course website into _build/html, executing every notebook afresh (the execution
# cache in _build/.jupyter_cache is cleared first, then filled for the other editions).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

# Notebooks run on the kernel named python3; make it the venv's.
python -m ipykernel install --sys-prefix --name python3 >/dev/null

rm -rf _build
jupyter-book build . -W -n --keep-going
