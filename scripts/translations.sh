#!/usr/bin/env bash
# Refresh the translation catalogues after the English text changed:
#
#   bash scripts/translations.sh [LANGUAGE ...]     (default: every language under locales/)
#   bash scripts/translations.sh --check            fail if a catalogue is not complete and current
#
# The English pages are extracted as message templates (bash scripts/book.sh --gettext, from the
# execution cache, so figures' alt text is included), then each language's catalogues in
# locales/<LANGUAGE>/LC_MESSAGES/book/ are updated with sphinx-intl: a new paragraph becomes an
# empty entry, a changed one a fuzzy entry that keeps its old translation as a start, and a
# removed one is kept, commented out, at the end of its file. Translate every empty and fuzzy entry
# (removing the fuzzy flag) and delete the commented-out ones, then check:
# python -m pytest tests/test_translation.py
# A new language: bash scripts/translations.sh ja (then translate, and add its edition to
# scripts/book.sh and to edition_links in _config.yml).
set -euo pipefail

here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/book.sh" --gettext
source "$here/setup.sh"

if [ "${1:-}" = "--check" ]; then
    CROSSMODAL_TEMPLATES=_build/gettext python -m pytest -q -p no:cacheprovider \
        tests/test_translation.py
    exit
fi

if [ "$#" -eq 0 ]; then
    set -- $(cd locales && ls -d */ | tr -d /)
fi
for language in "$@"; do
    sphinx-intl update --pot-dir _build/gettext --locale-dir locales --language "$language" \
        --line-width 0
    sphinx-intl stat --locale-dir locales --language "$language" | grep -v " 0 fuzzy, 0 untranslated" || true
done
