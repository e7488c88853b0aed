#!/usr/bin/env bash
# Run the test suite (unit tests and notebooks): bash scripts/test.sh [pytest args...]
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

# nbval starts the kernel named in each notebook (python3); make it the venv's.
python -m ipykernel install --sys-prefix --name python3 >/dev/null

status=0
python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "error: pytest collected no tests" >&2
fi
exit "$status"
