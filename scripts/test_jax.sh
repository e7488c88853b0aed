#!/usr/bin/env bash
# The tests on the JAX backend, in a second environment without TensorFlow (.venv-jax):
# every unit test, and the chapters that run on JAX (mapping, fusion) under nbval.
# bash scripts/test_jax.sh [pytest args...]
set -euo pipefail

export CROSSMODAL_VENV=.venv-jax CROSSMODAL_EXTRAS=jax,book,test KERAS_BACKEND=jax
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

if python -c "import tensorflow" 2>/dev/null; then
    echo "error: TensorFlow is installed in $CROSSMODAL_VENV; this environment must not have it" >&2
    exit 1
fi
python -m ipykernel install --sys-prefix --name python3 >/dev/null

if [ "$#" -eq 0 ]; then
    set -- tests book/mapping.ipynb book/fusion.ipynb
fi
status=0
python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "error: pytest collected no tests" >&2
fi
exit "$status"
