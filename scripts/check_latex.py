"""Check the LaTeX source of the PDF edition against the book's sources.

Usage: python scripts/check_latex.py _build/latex

The folder is what `bash scripts/pdf.sh --latex-only` builds. Checks that every page of
_toc.yml is there by its title, that every glued number, glued figure and exercise of the
chapters made it in, that there is at least one equation, that every included graphic is a PNG
file in the folder, and that no output shows a figure's text form ("<Figure size ...>"), ANSI
escape codes or Keras progress bars. Prints what fails and exits 1, or prints a summary.
"""

import json
import re
import sys
from pathlib import Path

import yaml
from check_site import LOG_WARNING

ROOT = Path(__file__).resolve().parent.parent

# Output that must not reach the page: a figure shown as text, ANSI escapes (raw, or their
# "[0m" remains with LaTeX's "{[}" for "["), Keras progress bars and epoch lines, and a library's
# log warnings (TensorFlow logs to the notebook).
NOISE = {
    "a figure's text form": re.compile(r"Figure size \d"),
    "an ANSI escape": re.compile(r"\x1b|\^\^\[|(?:\[|\{\[\})\d+(?:;\d+)*m"),
    "a progress bar": re.compile("\u2501+"),
    "a Keras epoch line": re.compile(r"^Epoch \d+/\d+", re.M),
    "a library's log warning": LOG_WARNING,
}
HEADING = re.compile(r"^\\(?:title|part|chapter|section)\{(.*)\}\s*$", re.M)
GRAPHIC = re.compile(r"\\(?:sphinx)?includegraphics(?:\[[^\]]*\])?\{((?:[^{}]|\{[^{}]*\})*)\}")
FIGURE = re.compile(r"\\begin\{figure\}.*?\\end\{figure\}", re.S)
GLUE_FIGURE = re.compile(r"[`:]{3,}\{glue:figure\} \S+\n((?::[\w-]+:.*\n)*)")
EXERCISE = re.compile(r"[`:]{3,}\{exercise\}[ \t]*(.*)\n((?::[\w-]+:.*\n)*)")


def toc_files(toc):
    """The toc's files in order: the root, then the chapters and sections of every part."""
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        walk(part["chapters"])
    return files


def markdown(path):
    """The Markdown text of a page: a .md file, or a notebook's Markdown cells."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


def words(text):
    """The words of a title, LaTeX markup removed, to compare titles across quoting styles."""
    text = text.replace(r"\sphinxhyphen{}", "-")
    return re.findall(r"\w+", re.sub(r"\\[A-Za-z]+", " ", text).lower())


def check(folder):
    """Return the list of problems found in the LaTeX folder."""
    texs = sorted(folder.glob("*.tex"))
    if not texs:
        return [f"no .tex file in {folder}"]
    tex = "\n".join(t.read_text(encoding="utf-8") for t in texs)
    problems = []

    headings = [words(h) for h in HEADING.findall(tex)]
    pages = {}
    for name in toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))):
        path = next(ROOT.glob(name + ".*")) if not Path(name).suffix else ROOT / name
        pages[Path(name).with_suffix("").as_posix()] = text = markdown(path)
        title = re.search(r"^# (.+)$", text, re.M).group(1)
        if words(title) not in headings:
            problems.append(f"{name}: its title {title!r} is not a heading of the LaTeX")

    for what, pattern in NOISE.items():
        for match in pattern.finditer(tex):
            line = tex[: match.start()].count("\n") + 1
            problems.append(f"{what} in the LaTeX near line {line}: {match.group()!r}")

    graphics = [re.sub(r"[{}]", "", g) for g in GRAPHIC.findall(tex)]
    for graphic in graphics:
        path = folder / graphic
        if path.suffix != ".png" or not path.is_file():
            problems.append(f"included graphic {graphic} is not a PNG file in {folder}")
        elif path.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
            problems.append(f"included graphic {graphic} is not a PNG image")

    glued = re.findall(r"\\DUrole\{pasted-text\}\{((?:[^{}]|\{[^{}]*\})*)\}", tex)
    roles = sum(text.count("{glue:text}") for text in pages.values())
    if len(glued) != roles or not all(glued):
        problems.append(f"{len(glued)} glued values in the LaTeX, {roles} glue:text roles")

    figures = [f for f in FIGURE.findall(tex) if GRAPHIC.search(f)]
    glue_figures = exercises = 0
    for doc, text in pages.items():
        for options in GLUE_FIGURE.findall(text):
            glue_figures += 1
            name = re.search(r"^:name: (\S+)", options, re.M)
            label = name and f"\\label{{\\detokenize{{{doc}:{name.group(1)}}}}}"
            if label and not any(label in figure for figure in figures):
                problems.append(f"{doc}: glued figure {name.group(1)} has no image")
        for title, options in EXERCISE.findall(text):
            exercises += 1
            label = re.search(r"^:label: (\S+)", options, re.M)
            if label and f"\\label{{exercise:{label.group(1)}}}" not in tex:
                problems.append(f"{doc}: exercise {label.group(1)} is missing")
            elif not label and title.strip() not in tex:
                problems.append(f"{doc}: exercise {title.strip()!r} is missing")
    if len(figures) < glue_figures:
        problems.append(f"{len(figures)} figures with an image, {glue_figures} glued figures")
    if not re.search(r"\\begin\{(?:equation|align)", tex):
        problems.append("no equation environment in the LaTeX")

    if not problems:
        print(
            f"{folder}: {len(pages)} pages of _toc.yml, {len(graphics)} PNG figures, "
            f"{len(glued)} glued values, {exercises} exercises, "
            f"{len(re.findall(r'begin[{](?:equation|align)', tex))} equations"
        )
    return problems


def main(argv):
    """Check the folder given on the command line."""
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    problems = check(Path(argv[1]))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
