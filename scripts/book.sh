#!/usr/bin/env bash
# Build the course website, in English into _build/html and in Chinese into _build/html/zh,
# executing every notebook once: the execution cache (_build/.jupyter_cache) is cleared first
# and filled by the English build; the Chinese edition takes the same outputs from it (the cache
# keys on code cells, and only the prose is translated), so both show the same numbers.
#
#   bash scripts/book.sh            both editions, the English one executing every notebook
#   bash scripts/book.sh --zh       the Chinese edition alone, from the cache (after a
#                                   translation changed): _build/html/zh
#   bash scripts/book.sh --student  the student edition, every solution hidden, from the cache:
#                                   _build/student/html
#   bash scripts/book.sh --gettext  the English text as message templates, for
#                                   scripts/translations.sh: _build/gettext
#
# The editions built from the cache run a notebook only if the cache lacks it, and leave
# _build/html (but for --zh) and the cache as they are.
set -euo pipefail

edition=all
case "${1:-}" in
    "") ;;
    --zh) edition=zh ;;
    --student) edition=student ;;
    --gettext) edition=gettext ;;
    *) echo "usage: bash scripts/book.sh [--zh | --student | --gettext]" >&2; exit 2 ;;
esac

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

# Notebooks run on the kernel named python3; make it the venv's.
python -m ipykernel install --sys-prefix --name python3 >/dev/null

# What `jupyter-book build . -W -n --keep-going` does, with its own output and doctree folders,
# builder and Sphinx values on top of _config.yml (the command line cannot set one Sphinx value).
# usage: from_cache NAME OUTPUT BUILDER JSON-OVERRIDES (doctrees in _build/.doctrees-NAME)
from_cache() {
    python - "$@" <<'PY'
import json
import sys
from pathlib import Path

from jupyter_book.sphinx import build_sphinx

name, output, builder, overrides = sys.argv[1:]
root = Path.cwd()
result = build_sphinx(
    root, root / output, doctreedir=root / "_build" / f".doctrees-{name}",
    builder=builder, path_config=root / "_config.yml", noconfig=True, warningiserror=True,
    keep_going=True, freshenv=True,
    confoverrides={"external_toc_path": (root / "_toc.yml").as_posix(), "nitpicky": True,
                   "latex_individualpages": False, **json.loads(overrides)},
)
if result:
    print(f"{output} failed to build: {result}", file=sys.stderr)
sys.exit(1 if result else 0)
PY
}

chinese() {
    from_cache zh _build/html/zh html \
        '{"language": "zh_CN", "html_title": "跨模态学习与推理",
          "edition_links": [{"lang": "en", "label": "English", "root": "../"}]}'
    echo "Chinese edition: _build/html/zh/index.html"
}

case "$edition" in
    all)
        rm -rf _build
        jupyter-book build . -W -n --keep-going
        chinese
        ;;
    zh) chinese ;;
    student)
        from_cache student _build/student/html html '{"hide_solutions": true, "edition_links": []}'
        echo "student edition: _build/student/html/index.html"
        ;;
    gettext)
        rm -rf _build/gettext
        from_cache gettext _build/gettext gettext \
            '{"gettext_uuid": false, "gettext_location": false, "nb_mime_priority_overrides": [["gettext", "image/png", 0]]}'
        ;;
esac
