"""The site's generated pages, written from the repository's own text.

Nothing here is written by hand twice: the home page takes what numvae is
and the two commands from README.md, the lecture list from the lectures
themselves (title, figures), and the one-line topics, the thumbnails and the
notation table from tutorials/README.md; the exercises page takes its classroom sections
from tutorials/README.md and README.md; the API reference lists every module
of the ``numvae`` package. A section that does not exist (yet) is left out
with a sentence saying so, never invented.

Each ``docs/*.md`` page is a template: a line ``<!-- site: NAME -->`` is
replaced by the generated block ``NAME``.
"""

import importlib
import inspect
import pkgutil
import re
import shutil
from pathlib import Path

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
PLACEHOLDER = re.compile(r"^<!-- site: ([a-z-]+) -->[ \t]*$", re.MULTILINE)
# [label](target) not preceded by "!" (an image) and whose target is not a URL or an anchor
RELATIVE_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\((?![a-z]+:|#)[^)]*\)")
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
TABLE_ROW = re.compile(r"^\|(.+)\|\s*$")
LEADING_NUMBER = re.compile(r"^\d+\.\s+")
# The engine first, in the order a reader meets it; then the rest alphabetically.
ENGINE_ORDER = ["activations", "layers", "gaussian", "likelihoods", "vae", "optim", "gradcheck"]


def sections(markdown):
    """``[(level, title, text)]``: each heading of ``markdown`` with the text under it.

    A section's text runs to the next heading of the same or a higher level
    (so it includes its subsections). Fenced code blocks are skipped when
    looking for headings.
    """
    lines = markdown.splitlines()
    headings, fenced = [], False
    for index, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        match = None if fenced else HEADING.match(line)
        if match:
            headings.append((index, len(match.group(1)), match.group(2)))
    result = []
    for position, (index, level, title) in enumerate(headings):
        end = next((later for later, later_level, _ in headings[position + 1:] if later_level <= level), len(lines))
        result.append((level, title, "\n".join(lines[index + 1:end]).strip("\n")))
    return result


def find_section(markdown, pattern):
    """The first section whose title matches ``pattern`` (a regex), as ``(level, title, text)``, or None."""
    return next((section for section in sections(markdown) if re.search(pattern, section[1], re.I)), None)


def shift_headings(text, to_level):
    """Re-level the headings of ``text`` so that its top headings sit at ``to_level``."""
    levels = [len(match.group(1)) for line in text.splitlines() if (match := HEADING.match(line))]
    if not levels:
        return text
    shift = to_level - min(levels)
    return "\n".join(HEADING.sub(lambda m: "#" * min(6, len(m.group(1)) + shift) + " " + m.group(2), line)
                     for line in text.splitlines())


def portable(text, source_dir, static_dir, prefix):
    """``text`` from a repository file, made to work on the site.

    Links to repository files become their plain label (they are not pages of
    the site); images are copied into ``static_dir`` and pointed to there as
    ``prefix/name``.
    """
    text = RELATIVE_LINK.sub(r"\1", text)

    def copy_image(match):
        label, target = match.groups()
        if re.match(r"[a-z]+:", target):
            return match.group(0)
        if not (source_dir / target).is_file():
            raise ValueError(f"{source_dir}: an image in its README: expected a file, got no {target}")
        static_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_dir / target, static_dir / Path(target).name)
        return f"![{label}]({prefix}/{Path(target).name})"

    return IMAGE.sub(copy_image, text)


def intro(readme_text, readme_dir, static_dir):
    """README's title and opening: what numvae is and the two commands.

    The opening runs to the first ``##`` heading or the first image, whichever
    comes first, so that the lecture list stays near the top of the home page.
    """
    lines = readme_text.splitlines()
    end = next((i for i, line in enumerate(lines) if line.startswith("## ") or IMAGE.match(line)), len(lines))
    return portable("\n".join(lines[:end]).strip("\n"), readme_dir, static_dir, "_generated")


def lecture_rows(tutorials_readme):
    """``{script stem: (one-line topic or None, thumbnail file name or None)}`` from tutorials/README.md.

    A row of a table that names a lecture script (```04_train_a_vae.py```)
    gives its topic (its last cell of prose) and, if a cell holds an image,
    the name of the figure chosen as its thumbnail.
    """
    result = {}
    for line in tutorials_readme.splitlines():
        match = TABLE_ROW.match(line.strip())
        if not match:
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", match.group(1))]
        scripts = [re.search(r"(\d\d_[A-Za-z0-9_]+)\.py", cell) for cell in cells]
        script = next((found.group(1) for found in scripts if found), None)
        if script is None:
            continue
        images = [image.group(2) for cell in cells if (image := IMAGE.search(cell))]
        prose = [cell for cell, found in zip(cells, scripts) if not found and not IMAGE.search(cell) and len(cell) > 3]
        result[script] = (prose[-1].replace("\\|", "|") if prose else None,
                          Path(images[0]).name if images else None)
    return result


def lecture_list(lectures, rows):
    """Markdown for the home page: one card per lecture, ``(stem, title, thumbnail or None)``."""
    cards = []
    for stem, title, thumbnail in lectures:
        number = stem[:2]
        heading = f"{number} · {LEADING_NUMBER.sub('', title)}"
        card = ["````{container} lecture-card"]
        if thumbnail:
            card += [f"```{{image}} {thumbnail}", f":alt: a figure from lecture {number}", ":width: 180px",
                     f":target: lectures/{stem}.html", "```"]
        card += ["", f"{{doc}}`{heading} <lectures/{stem}>`", ""]
        topic = rows.get(stem, (None, None))[0]
        if topic:
            card += [topic, ""]
        card.append("````")
        cards.append("\n".join(card))
    return "\n\n".join(cards)


def notation(tutorials_readme):
    """The notation section of tutorials/README.md, or a sentence saying it has none."""
    found = find_section(tutorials_readme, r"notation")
    if found is None:
        return "*tutorials/README.md has no notation section yet.*"
    return found[2]


def classroom(readme_texts, readme_dirs, static_dir):
    """The sections about exercises, the classroom and the bug zoo, from each README in turn."""
    blocks = []
    for text, directory in zip(readme_texts, readme_dirs):
        for level, title, body in sections(text):
            if re.search(r"classroom|exercise|bug zoo", title, re.I) and not any(title in b for b in blocks):
                section = shift_headings(f"{'#' * level} {title}\n\n{body}", 2)
                blocks.append(portable(section, directory, static_dir, "_generated"))
    if not blocks:
        return "*No README describes the classroom workflow yet.*"
    return "\n\n".join(blocks)


def bug_zoo(lectures):
    """A link to the bug zoo lecture, or a sentence saying there is none yet."""
    for stem, title, _ in lectures:
        if "bug_zoo" in stem:
            return f"The bug zoo is lecture {stem[:2]}: {{doc}}`{LEADING_NUMBER.sub('', title)} <lectures/{stem}>`."
    return "*The bug zoo lecture (`tutorials/NN_bug_zoo.py`) is not in the course yet.*"


def fill(template, blocks):
    """``template`` with each ``<!-- site: NAME -->`` line replaced by ``blocks[NAME]``."""
    def replace(match):
        if match.group(1) not in blocks:
            raise ValueError(f"template placeholder: expected one of {sorted(blocks)}, got {match.group(1)!r}")
        return blocks[match.group(1)]

    return PLACEHOLDER.sub(replace, template)


def module_names(package="numvae"):
    """The modules of ``package`` to document: the engine first, then the rest alphabetically."""
    root = importlib.import_module(package)
    names = sorted(info.name for info in pkgutil.walk_packages(root.__path__, f"{package}.")
                   if not info.name.endswith("__main__"))

    def order(name):
        short = name.split(".", 1)[1]
        return (ENGINE_ORDER.index(short), "") if short in ENGINE_ORDER else (len(ENGINE_ORDER), name)

    return sorted(names, key=order)


def split_members(name):
    """``(own, reexported)``: the names in a module's ``__all__`` it defines, and the functions and classes it re-exports.

    ``own`` are names; ``reexported`` are the objects themselves. ``(None, [])``
    for a module without ``__all__`` (autodoc then documents what
    the module defines). A re-exported function or class (``numvae.plots``
    re-exports ``plot_loss_curves`` from ``numvae.plots.curves``) is documented
    once, in its own module; the re-exporting page links to it.
    """
    module = importlib.import_module(name)
    public = getattr(module, "__all__", None)
    if public is None:
        return None, []
    own, reexported = [], []
    for member in public:
        obj = getattr(module, member)
        foreign = (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__ != name
        if foreign:
            reexported.append(obj)
        else:
            own.append(member)
    return own, reexported


def api_page(name):
    """The reStructuredText of module ``name``'s API page."""
    own, reexported = split_members(name)
    members = "   :members:\n" if own is None else f"   :members: {', '.join(own)}\n" if own else ""
    text = f"{name}\n{'=' * len(name)}\n\n.. automodule:: {name}\n{members}   :show-inheritance:\n"
    if reexported:
        links = [f":{'class' if inspect.isclass(obj) else 'func'}:`{obj.__module__}.{obj.__qualname__}`"
                 for obj in reexported]
        text += (f"\nAlso importable from ``{name}``, and documented in their own modules: "
                 + ", ".join(links) + ".\n")
    return text


def write_api(api_dir, names):
    """One reStructuredText page per module (autodoc + numpydoc) and an index of them."""
    api_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        (api_dir / f"{name}.rst").write_text(api_page(name), encoding="utf-8")
    toctree = "\n".join(f"   {name}" for name in names)
    (api_dir / "index.rst").write_text(
        "API reference\n=============\n\n"
        "Every module of numvae, from its numpydoc docstrings: each function states its formula, "
        "its derivative and the shapes of its arrays.\n\n"
        f".. toctree::\n   :maxdepth: 1\n\n{toctree}\n", encoding="utf-8")
