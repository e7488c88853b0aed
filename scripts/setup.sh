# Shared environment setup, sourced by the scripts in this folder.
#
# Creates a virtual environment (.venv at the repository root, or
# $CROSSMODAL_VENV) with Python 3.11, installs the package with its extras
# ($CROSSMODAL_EXTRAS, default "dev") when pyproject.toml or the extras have
# changed since the last install, activates it and exports the variables the
# course expects.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
VENV="${CROSSMODAL_VENV:-.venv}"
EXTRAS="${CROSSMODAL_EXTRAS:-dev}"

if [ ! -x "$VENV/bin/python" ]; then
    if command -v python3.11 >/dev/null 2>&1; then
        PYTHON=python3.11
    else
        PYTHON=python3
    fi
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        echo "error: Python 3.11 is required ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
        exit 1
    fi
    "$PYTHON" -m venv "$VENV"
fi

# shellcheck disable=SC1091
source "$VENV/bin/activate"

STAMP="$VENV/.crossmodal-installed"
WANT="$(python -c 'import hashlib, sys; print(hashlib.sha256(open("pyproject.toml", "rb").read() + sys.argv[1].encode()).hexdigest())' "$EXTRAS")"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    python -m pip install --upgrade pip
    python -m pip install -e ".[$EXTRAS]"
    echo "$WANT" > "$STAMP"
fi

export KERAS_BACKEND="${KERAS_BACKEND:-tensorflow}"
export TF_CPP_MIN_LOG_LEVEL=2
export PYTHONHASHSEED=0
# A chapter's claim that does not hold fails the tests and the build
# (in a reader's own notebook it is a warning): see crossmodal/claims.py.
export CROSSMODAL_CLAIMS=strict
