"""The book's editions in other languages: a link from every page to its twin, and English API docs.

``edition_links`` lists the other editions, each as ``{"lang": ..., "label": ..., "root": ...}``,
where ``root`` is that edition's site root seen from this one's (``"zh/"`` from the English site,
``"../"`` from the Chinese one). Every HTML page gets a link to the same page there, and a
``<link rel="alternate" hreflang>`` in its head. The student edition sets none.

Docstrings on the API page are the package's reference text and stay English in every edition:
they are not offered for translation (the page's own prose is), and a module's docstring, which
no object description holds, has the class ``untranslated``.

A translated string is parsed on its own, apart from its notebook, so myst-nb would find no glued
value for its ``{glue:text}`` roles; they are read as references to the notebook's own glue data
(myst-nb's ``path::key`` form), which give the same text as in the English page.
"""

import functools
import re
from html import escape
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.locale import init as init_locale
from sphinx.transforms import SphinxTransform, i18n
from sphinx.util.i18n import docname_to_domain

#: A glue role whose key names no page: ``{glue:text}`key:.2f``` (not ``page::key``).
LOCAL_GLUE = re.compile(r"\{(glue(?::[\w-]+)?)\}`([^`:]+)(:[^`]*)?`")


def glue_from_the_notebook(publish_msgstr):
    """Sphinx's parser of a translated string, with glue keys pointing to the string's notebook.

    ``{glue:text}`key:.2f``` becomes ``{glue:text}`/book/page.ipynb::key:.2f```; a text role
    gets the format ``s`` when it has none (myst-nb reads ``page::key`` alone as a format).
    """

    def to_the_notebook(match, notebook):
        role, key, spec = match.groups()
        if role == "glue:text" and not spec:
            spec = ":s"
        return f"{{{role}}}`{notebook}::{key}{spec or ''}`"

    @functools.wraps(publish_msgstr)
    def publish(app, source, source_path, source_line, config, settings):
        docname = app.env.path2doc(source_path)
        if docname and source_path.endswith(".ipynb"):
            notebook = "/" + Path(source_path).relative_to(app.srcdir).as_posix()
            source = LOCAL_GLUE.sub(lambda match: to_the_notebook(match, notebook), source)
        return publish_msgstr(app, source, source_path, source_line, config, settings)

    return publish


class KeepDocstringsEnglish(SphinxTransform):
    """Mark object descriptions and docstrings (autodoc's output) as not translatable."""

    default_priority = 15  # before Sphinx's Locale transform (20) replaces translated text

    def apply(self):
        for description in self.document.findall(addnodes.desc):
            for node in description.findall(nodes.TextElement):
                node["translatable"] = False
        for node in self.document.findall(nodes.TextElement):
            if ":docstring of " in (node.source or ""):  # a module's docstring
                node["translatable"] = False
                node["classes"].append("untranslated")  # for scripts/check_site.py


class TranslateTocCaptions(SphinxTransform):
    """Translate the captions of the book's parts in the root page's table of contents.

    sphinx-external-toc inserts the toctrees (at priority 100) after Sphinx has translated the
    page (at 20), so their captions, extracted with the page's messages, are translated here.
    """

    default_priority = 150

    def apply(self):
        if self.config.language in (None, "en"):
            return
        directories = [Path(self.app.srcdir, directory) for directory in self.config.locale_dirs]
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        catalogue, _ = init_locale(directories, self.config.language, domain)
        for toctree in self.document.findall(addnodes.toctree):
            if toctree.get("caption"):
                toctree["caption"] = toctree["rawcaption"] = catalogue.gettext(toctree["caption"])


def add_edition_links(app, pagename, templatename, context, doctree):
    """Prepend links to this page's twins in the other editions to its body."""
    if not app.config.edition_links or "body" not in context:
        return
    to_root = "../" * pagename.count("/")
    page = app.builder.get_target_uri(pagename)
    links, alternates = [], []
    for edition in app.config.edition_links:
        href = escape(f"{to_root}{edition['root']}{page}")
        lang = escape(edition["lang"])
        links.append(
            f'<a class="edition-link" href="{href}" hreflang="{lang}" lang="{lang}">'
            f"{escape(edition['label'])}</a>"
        )
        alternates.append(f'<link rel="alternate" hreflang="{lang}" href="{href}" />')
    context["body"] = (
        f'<p class="edition-links" style="text-align: right">{" · ".join(links)}</p>\n'
        + context["body"]
    )
    context["metatags"] = context.get("metatags", "") + "\n".join(alternates)


def setup(app):
    app.add_config_value("edition_links", [], "html")
    app.add_transform(KeepDocstringsEnglish)
    if not hasattr(i18n.publish_msgstr, "__wrapped__"):
        i18n.publish_msgstr = glue_from_the_notebook(i18n.publish_msgstr)
    app.add_transform(TranslateTocCaptions)
    app.connect("html-page-context", add_edition_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
