#!/usr/bin/env bash
# Lint and check the formatting with ruff (its rules are in pyproject.toml): bash scripts/lint.sh
# `ruff format .` and `ruff check --fix .` in the environment mend most of what it reports.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

ruff check .
ruff format --check .
