#!/usr/bin/env bash
# Build the PDF edition of the course with XeLaTeX -> _build/latex/crossmodal.pdf
#
# The chapters' outputs come from the execution cache that scripts/book.sh fills
# (_build/.jupyter_cache); a chapter missing from it is executed here first. _build/html and
# the cache are kept. TeX Live is installed from Debian's packages when xelatex or latexmk is
# missing, which needs root (as in CI). With --latex-only the build stops at the LaTeX source
# in _build/latex, which needs no TeX; scripts/check_latex.py checks it.
set -euo pipefail

TEX_PACKAGES="texlive-xetex texlive-latex-extra texlive-fonts-recommended latexmk make
fonts-freefont-otf fonts-wqy-microhei"

builder=pdflatex
if [ "${1:-}" = "--latex-only" ]; then
    builder=latex
elif [ $# -gt 0 ]; then
    echo "usage: bash scripts/pdf.sh [--latex-only]" >&2
    exit 2
fi

if [ "$builder" = pdflatex ] && ! { command -v xelatex && command -v latexmk; } >/dev/null; then
    if [ "$(id -u)" != 0 ]; then
        echo "error: xelatex and latexmk are missing; as root, install them with" >&2
        echo "  apt-get install --no-install-recommends" $TEX_PACKAGES >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    # shellcheck disable=SC2086
    apt-get install -y --no-install-recommends $TEX_PACKAGES
fi

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

# Notebooks run on the kernel named python3; make it the venv's.
python -m ipykernel install --sys-prefix --name python3 >/dev/null

rm -rf _build/latex
jupyter-book build . --builder "$builder" -W -n --keep-going

if [ "$builder" = pdflatex ]; then
    test -s _build/latex/crossmodal.pdf
    echo "PDF: _build/latex/crossmodal.pdf"
else
    echo "LaTeX: _build/latex/crossmodal.tex"
fi
