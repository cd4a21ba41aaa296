"""Grading a workbook: each exercise is ``not started``, ``pass``, or ``FAIL`` with the reason.

A student's file is parsed first (a syntax error is a failure, not a crash),
then imported and checked against the exercise's properties, in order; the
first property that fails is reported with its (shrunk) counterexample and a
hint. Hypothesis runs derandomized, so a student and a lecturer see the same
result. Each exercise has a time budget (SIGALRM where the platform has it),
so a student's infinite loop becomes a failure instead of a hung check.
``numvae exercises check`` runs :func:`check_exercise` in a child process
(:mod:`.isolated`), which a student's ``os._exit()`` cannot take the checker down with.
"""

import ast
import contextlib
import importlib.util
import os
import signal
import sys
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .properties import PropertyFailure, hypothesis_settings, verify
from .properties.core import describe
from .workbook import is_stub

PASS, FAIL, NOT_STARTED = "pass", "FAIL", "not started"


@dataclass(frozen=True)
class Result:
    """The grade of one exercise: its name, status and (for a failure) why."""

    name: str
    status: str
    message: str = ""
    property: str = ""

    def line(self):
        return f"{self.name:<15} {self.status:<12} {self.message}".rstrip()


class CheckTimeout(BaseException):
    """The exercise's time budget ran out (a BaseException, so student code cannot swallow it)."""


class _time_budget:
    """Raise :class:`CheckTimeout` in the main thread after ``seconds`` (no-op where impossible)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.active = (seconds and hasattr(signal, "setitimer")
                       and threading.current_thread() is threading.main_thread())

    def _expire(self, signum, frame):
        raise CheckTimeout()

    def __enter__(self):
        if self.active:
            self.previous = signal.signal(signal.SIGALRM, self._expire)
            try:
                signal.setitimer(signal.ITIMER_REAL, self.seconds)
            except OverflowError:  # longer than the platform's timer holds (1e300 s): as good as no budget
                signal.signal(signal.SIGALRM, self.previous)
                self.active = False
        return self

    def __exit__(self, *exc):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


@contextlib.contextmanager
def _state_kept():
    """NumPy's default error handling inside; the working directory and error handling as they were after.

    What a student's file sets at import (``np.seterr(all="raise")``, ``os.chdir``)
    then stays with its own exercise, instead of failing the next ones.
    """
    cwd = os.getcwd()
    try:
        with np.errstate(divide="warn", over="warn", under="ignore", invalid="warn"):
            yield
    finally:
        with contextlib.suppress(OSError):
            os.chdir(cwd)


def load(path, name):
    """Import the workbook file ``path`` as a fresh module (no caching across checks)."""
    spec = importlib.util.spec_from_file_location(f"numvae_workbook_{name}_{id(path)}", path)
    module = importlib.util.module_from_spec(spec)
    directory = str(Path(path).parent)
    sys.path.insert(0, directory)  # a student may import a helper of their own from the workbook
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(directory)
    return module


def _not_utf8(source):
    """Why the bytes ``source`` are not UTF-8 text (an editor's UTF-16, a Latin-1 é), or None."""
    if b"\0" in source:
        return "it holds NUL bytes: UTF-16?"
    try:
        source.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return f"byte {source[exc.start]:#04x} at offset {exc.start}"
    return None


def _bound_names(tree):
    """Every name a module's code binds, anywhere ("*" for a star import)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


def static_status(exercise, source, path):
    """A Result decided without running the student's code (``source``: the file's bytes), or None."""
    try:
        tree = ast.parse(source, filename=str(path))  # bytes: a BOM or a coding line is read as import reads it
    except SyntaxError as exc:
        why = _not_utf8(source)
        if why:
            return Result(exercise.name, FAIL, f"{path.name} is not UTF-8 text ({why}): save it as UTF-8")
        return Result(exercise.name, FAIL, f"syntax error in {path.name} line {exc.lineno}: {exc.msg}")
    except (MemoryError, RecursionError) as exc:  # Python's parser gives up (import would, too)
        return Result(exercise.name, FAIL, f"Python cannot parse {path.name} ({type(exc).__name__}): "
                                           "is an expression nested thousands deep?")
    defined = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    bound = _bound_names(tree)  # relu = lambda x: ..., a def under an if, an import: running the file decides
    missing = [n for n in exercise.function_names if n not in defined and n not in bound and "*" not in bound]
    if missing:
        return Result(exercise.name, FAIL, f"{path.name} defines no function {missing[0]}")
    stubs = [n for n in exercise.function_names if n in defined and is_stub(defined[n])]
    if len(stubs) == len(exercise.function_names):
        return Result(exercise.name, NOT_STARTED)
    if stubs:
        return Result(exercise.name, FAIL, f"{stubs[0]} is not implemented yet (it raises NotImplementedError)")
    return None


def precheck(exercise, directory):
    """The Result of an exercise whose file is missing, not started or does not parse; None if it must run."""
    path = Path(directory) / f"{exercise.name}.py"
    if not path.is_file():
        return Result(exercise.name, FAIL, f"{path} not found (numvae exercises start DIR --only {exercise.name})")
    try:
        source = path.read_bytes()
    except OSError as exc:  # unreadable (permissions): this exercise's failure, not the whole check's
        return Result(exercise.name, FAIL, f"cannot read {path.name}: {exc.strerror or describe(exc)}")
    return static_status(exercise, source, path)


IMPORTING = "importing the file"


def check_exercise(exercise, directory, max_examples=50, timeout=120.0, on_stage=None):
    """Grade one exercise of the workbook in ``directory``; never raises for a student's bug.

    ``on_stage(text)``, if given, is called as each step starts: ``IMPORTING``,
    then each property's name (the parent of a child process that grades uses
    it to say where the child died). Run in-process, a student's ``os._exit()``
    or segfault still ends the caller: see :mod:`.isolated`.
    """
    static = precheck(exercise, directory)
    if static is not None:
        return static
    path = Path(directory) / f"{exercise.name}.py"
    settings = hypothesis_settings(max_examples)
    current = IMPORTING
    stage = on_stage or (lambda text: None)
    try:
        with _time_budget(timeout), warnings.catch_warnings(), _state_kept():
            warnings.simplefilter("ignore")
            stage(current)
            try:
                module = load(path, exercise.name)
            except (Exception, SystemExit) as exc:  # exit() would end the checker, silently, with status 0
                return Result(exercise.name, FAIL, f"importing {path.name} raised {describe(exc)}")
            with exercise.implementation(module) as impl:
                for prop in exercise.properties:
                    current = prop.name
                    stage(current)
                    verify(prop, impl, settings=settings)
    except PropertyFailure as failure:
        return Result(exercise.name, FAIL, str(failure), property=failure.property or "")
    except CheckTimeout:
        return Result(exercise.name, FAIL, f"{current}: no answer within {timeout:g}s (an infinite loop?)",
                      property=current)
    except (Exception, SystemExit) as exc:  # a student's bug slipping past the properties' own guards
        return Result(exercise.name, FAIL, f"{current}: {describe(exc)}", property=current)
    return Result(exercise.name, PASS)


def present(directory, exercises):
    """The exercises whose files exist in ``directory``."""
    return [e for e in exercises if (Path(directory) / f"{e.name}.py").is_file()]
