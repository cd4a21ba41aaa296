"""Docstring text that reads as plain text and as reStructuredText alike.

numvae's docstrings write an absolute value the way prose does, ``|x|``.
In reStructuredText that is a substitution reference, and an undefined one
is an error (and a red box on the page). :func:`escape_bars`, connected to
autodoc, escapes such bars in prose so the page shows ``|x|`` as written.
Math is left alone: inside ``:math:`...```, ````literals```` and ``.. math::``
blocks a bar is LaTeX's (where ``\\|`` would mean a norm, ‖x‖).
"""

import re

SUBSTITUTION = re.compile(r"(?<![\\|\w])\|(?=\S)([^|`]*?\S)\|(?![|\w])")
BACKTICKS = re.compile(r"(``.*?``|`[^`]*`)")
DIRECTIVE = re.compile(r"^(\s*)\.\.\s+math::")


def escape_line(line):
    """``line`` with each ``|text|`` outside backticks written as ``\\|text\\|``."""
    parts = BACKTICKS.split(line)
    return "".join(part if index % 2 else SUBSTITUTION.sub(r"\\|\1\\|", part) for index, part in enumerate(parts))


def escape_bars(app, what, name, obj, options, lines):
    """autodoc-process-docstring handler: escape prose ``|x|`` in ``lines``, in place."""
    math_indent = None
    for index, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if math_indent is not None:
            if not line.strip() or indent > math_indent:
                continue  # the body of a math directive: LaTeX
            math_indent = None
        match = DIRECTIVE.match(line)
        if match:
            math_indent = len(match.group(1))
            continue
        lines[index] = escape_line(line)
