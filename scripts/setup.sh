# Shared environment setup, sourced by the scripts in this folder.
#
# Makes sure a virtual environment (.venv at the repository root, or $CROSSMODAL_VENV) exists,
# runs a supported Python (3.11 to 3.13) and has the package installed with its extras
# ($CROSSMODAL_EXTRAS, default "dev") at the versions in constraints.txt; activates it and
# exports the variables the course expects. $CROSSMODAL_PYTHON chooses the interpreter for a
# new environment (default: the first of python3.11, python3.12, python3.13, python3 that works).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
VENV="${CROSSMODAL_VENV:-.venv}"
EXTRAS="${CROSSMODAL_EXTRAS:-dev}"
SUPPORTED='import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))'

supported() {  # supported PYTHON: is it an interpreter that runs and is 3.11 to 3.13?
    "$1" -c "$SUPPORTED" >/dev/null 2>&1
}

# An environment made by another Python (an unsupported version, or one moved from another
# machine whose interpreter is gone) is rebuilt, not patched.
if [ -e "$VENV" ] && ! supported "$VENV/bin/python"; then
    echo "$VENV was made by an unsupported or missing Python; making it again" >&2
    rm -rf "$VENV"
fi

if [ ! -e "$VENV" ]; then
    PYTHON=""
    for candidate in ${CROSSMODAL_PYTHON:-python3.11 python3.12 python3.13 python3}; do
        if supported "$candidate"; then
            PYTHON="$candidate"
            break
        fi
    done
    if [ -z "$PYTHON" ]; then
        echo "error: the course needs Python 3.11, 3.12 or 3.13; none was found" >&2
        echo "(tried: ${CROSSMODAL_PYTHON:-python3.11 python3.12 python3.13 python3})" >&2
        exit 1
    fi
    if ! "$PYTHON" -m venv "$VENV"; then
        rm -rf "$VENV"
        version="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
        echo "error: $PYTHON cannot make a virtual environment. On Debian or Ubuntu," >&2
        echo "install its venv module first: sudo apt install python3-venv (or python$version-venv)" >&2
        exit 1
    fi
fi

# shellcheck disable=SC1091
source "$VENV/bin/activate"

# Reinstall when the requirements, the pinned versions or the extras change (hashed by Python
# itself, so that the script needs no sha256sum or shasum).
STAMP="$VENV/.crossmodal-installed"
WANT="$(python - "$EXTRAS" <<'PY'
import hashlib, sys
digest = hashlib.sha256(sys.argv[1].encode() + sys.version.encode())
for name in ("pyproject.toml", "constraints.txt"):
    digest.update(open(name, "rb").read())
print(digest.hexdigest())
PY
)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    python -m pip install --upgrade pip
    python -m pip install -c constraints.txt -e ".[$EXTRAS]"
    echo "$WANT" > "$STAMP"
fi

export KERAS_BACKEND="${KERAS_BACKEND:-tensorflow}"
export TF_CPP_MIN_LOG_LEVEL=2
export PYTHONHASHSEED=0
# A chapter's claim that does not hold fails the tests and the build
# (in a reader's own notebook it is a warning): see crossmodal/claims.py.
export CROSSMODAL_CLAIMS=strict
