# Shared environment setup, sourced by scripts/test.sh and scripts/book.sh.
#
# Creates .venv at the repository root (Python 3.11), installs the package
# with its [dev] extras when pyproject.toml has changed since the last
# install, activates the venv and exports the variables the course expects.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

if [ ! -x .venv/bin/python ]; then
    if command -v python3.11 >/dev/null 2>&1; then
        PYTHON=python3.11
    else
        PYTHON=python3
    fi
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        echo "error: Python 3.11 is required ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
        exit 1
    fi
    "$PYTHON" -m venv .venv
fi

# shellcheck disable=SC1091
source .venv/bin/activate

STAMP=.venv/.crossmodal-installed
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    python -m pip install --upgrade pip
    python -m pip install -e ".[dev]"
    echo "$WANT" > "$STAMP"
fi

export KERAS_BACKEND=tensorflow
export TF_CPP_MIN_LOG_LEVEL=2
export PYTHONHASHSEED=0
# A chapter's claim that does not hold fails the tests and the build
# (in a reader's own notebook it is a warning): see crossmodal/claims.py.
export CROSSMODAL_CLAIMS=strict
