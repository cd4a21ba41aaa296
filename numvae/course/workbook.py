"""Writing a student workbook: one Python file per exercise, the questions, plus a README.

A student's file is the exercise's stub (:mod:`.stubs`): numvae's signatures,
docstrings written for the student (the forward, the shapes, what ``check``
verifies; not the derivative) and bodies that raise ``NotImplementedError``.
With ``solutions=True`` each file holds numvae's own functions instead, read
with :mod:`inspect` from the code the tests check, so a solution can never
drift from it; and ``questions.py`` holds the answer key (:mod:`.questions`).

Writing into a directory that already holds files never overwrites anything:
missing exercise files are added, existing ones are kept and reported, so a
student's work survives a second ``start``.
"""

import ast
import inspect
import shlex
import textwrap
from pathlib import Path

from ..util.files import atomic_write
from . import questions


STUBS = Path(__file__).resolve().parent / "stubs"


def solution_source(function):
    """The full source of one of numvae's functions, dedented."""
    return textwrap.dedent(inspect.getsource(function))


def stub_text(exercise):
    """The student's file for ``exercise`` below its title: imports and stubs, from ``stubs/<name>.py``."""
    return (STUBS / f"{exercise.name}.py").read_text(encoding="utf-8")


def is_stub(node):
    """True if a parsed function's body is only a docstring and ``raise NotImplementedError``."""
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def as_docstring(text):
    """``text`` written inside a (non-raw) docstring so that it reads as itself."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def render(exercise, directory_hint, solutions=False):
    """The text of ``<exercise.name>.py``."""
    kind = "Solution" if solutions else "Exercise"
    doc = (
        f'"""{kind} `{exercise.name}`: {exercise.title}.\n\n'
        + ("numvae's own code, copied from the package (it is what numvae's tests check).\n"
           if solutions else
           "Replace each `raise NotImplementedError(...)` with your code. The docstrings give the forward\n"
           "formula, the shapes and what the check verifies; the derivatives are yours to derive. Stuck?\n"
           "A hint at a time, from the first step to the formula:\n\n"
           f"    numvae exercises hint {as_docstring(directory_hint)} {exercise.name}\n\n"
           "This is plain Python: import it, call it, debug it as you like.\n")
        # in a docstring: a backslash or a quote of the folder's name kept as itself, never an escape or its end
        + f"Check it with:\n\n    numvae exercises check {as_docstring(directory_hint)} {exercise.name}\n"
        + '"""\n\n'
    )
    if not solutions:
        return doc + stub_text(exercise)
    return doc + exercise.header + "\n\n" + "\n\n".join(solution_source(f) for f in exercise.functions)


def readme(exercises, directory_hint):
    rows = "\n".join(f"| `{e.name}.py` | {e.title} | {', '.join(f'`{n}`' for n in e.function_names)} |"
                     for e in exercises)
    return f"""# A numvae workbook

Each file holds functions to write: the docstrings give the forward formula, the shapes
and everything the check verifies; the derivatives are yours to derive. Each body raises
`NotImplementedError` until you replace it.

| file | what | functions |
|---|---|---|
{rows}

Check your work (one line per exercise: `not started`, `pass`, or `FAIL` with the property
that failed, the smallest input that shows it, and a hint where the evidence names the mistake):

    numvae exercises check {directory_hint}            # every exercise, and your answers
    numvae exercises check {directory_hint} kl         # just one

Stuck? `numvae exercises hint {directory_hint} kl` shows the next hint of an exercise, from
what to differentiate to the formula (it remembers, in `.hints.json`, how many you have seen).

`questions.py` holds the lectures' numerical questions: replace a `None` with your answer
(a number) and `numvae exercises check {directory_hint} questions` grades it.

The checks are the ones numvae's own tests run: gradient checks against central differences
in float64, and properties of the mathematics (KL >= 0, the sampler's variance, stability at
extreme logits, ...) tested on inputs drawn by Hypothesis, seeded so everyone sees the same.

Then watch your code generate digits: `numvae exercises train {directory_hint}` trains a VAE
on mnist5k built from your functions (numvae's own fill in for the files not handed out).
"""


def write_workbook(directory, exercises, solutions=False):
    """Write the workbook files that are missing; return (written, kept) lists of paths."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"DIR: expected a directory, got the file {str(directory)!r}")
    directory.mkdir(parents=True, exist_ok=True)
    hint = shlex.quote(str(directory))  # commands a student can paste, whatever the folder is called
    try:
        hint.encode("utf-8")
    except UnicodeEncodeError:  # a name that is not UTF-8 (bytes a file system let through): no command to paste
        hint = "DIR"
    files = {f"{e.name}.py": render(e, hint, solutions) for e in exercises}
    files[questions.FILE] = questions.render(solutions)
    files["README.md"] = readme(exercises, hint)
    written, kept = [], []
    for filename, text in files.items():
        path = directory / filename
        if path.exists() or path.is_symlink():  # a dangling link is the student's too
            kept.append(path)
            continue
        atomic_write(path, lambda f, text=text: f.write(text.encode()))
        written.append(path)
    return written, kept
