"""``numvae exercises start|check|hint|train``: self-grading exercises for a VAE course.

``start DIR`` writes a workbook (``--only a,b`` for one week's part,
``--solutions`` for the lecturer's copy, with the questions' answer key);
``check DIR [NAME ...]`` grades it, one line per exercise and per answered
question (NAME ``questions``: the answers only), exit status 0 exactly when
everything requested passes; ``hint DIR NAME`` shows the next of an
exercise's graded hints; ``train DIR`` first says which exercises fail
``check``, then trains a VAE on mnist5k from the student's functions and
writes what ``numvae train`` writes (``--overwrite`` trains again into a
folder that holds a run); ``train DIR --model m2|m1m2`` trains lecture 14's
semi-supervised models instead, which use the M2 exercises too, as
``numvae semi`` trains them, and reports the test accuracy. Exposes
``add_parser(subparsers)`` and ``run(args)`` like every subcommand module.
"""

import argparse
import shlex
from pathlib import Path

from ..cli.common import say  # progress to stdout that outlives its reader (| head -1)


def _names(text):
    """``--only A,B``: the names, a stray comma ignored; none at all (``--only ""``) is a usage error."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:  # it used to mean every exercise
        raise argparse.ArgumentTypeError(f"expected exercise names separated by commas, got {text!r}")
    return names


TRAIN_MODELS = ("vae", "m2", "m1m2")
"""``exercises train --model``: numvae train's VAE, or numvae semi's M2 on pixels or on M1's codes."""

M2_EXERCISES = ("softmax_cross_entropy", "unlabelled_bound")
"""The exercises only M2 uses: a VAE trained from a workbook never calls their functions."""


def add_parser(subparsers):
    """Register ``exercises`` and its sub-subcommands on the ``numvae`` parser."""
    from ..cli.common import non_negative_int, number, path_text, positive_int
    from ..cli.train import TRAIN_DEFAULTS  # exercises train's VAE has numvae train's hidden layers

    parser = subparsers.add_parser("exercises", help="write, grade and train from a student workbook")
    commands = parser.add_subparsers(dest="exercises_command", metavar="{start,check,hint,train}")
    commands.required = True

    start = commands.add_parser("start", help="write a workbook (missing files only: never overwrites)")
    start.add_argument("dir", type=path_text, metavar="DIR", help="the folder to write the workbook into (created if missing; existing files are kept)")
    start.add_argument("--only", type=_names, default=[], metavar="A,B", help="just these exercises")
    start.add_argument("--solutions", action="store_true", help="the lecturer's copy, filled in from numvae")

    check = commands.add_parser("check", help="grade a workbook: one line per exercise")
    check.add_argument("dir", type=path_text, metavar="DIR", help="the workbook folder to grade")
    check.add_argument("names", nargs="*", metavar="NAME",
                       help="exercises to check, or 'questions' for the answers (default: every file in DIR)")
    check.add_argument("--max-examples", type=positive_int, default=50,
                       help="Hypothesis examples per property (default: %(default)s)")
    check.add_argument("--timeout", type=number(strict=True), default=120.0,
                       help="seconds per exercise before it fails as a hang (default: %(default)s)")

    hint = commands.add_parser("hint", help="the next hint of an exercise: what to differentiate, the "
                                            "intermediate result, the formula last")
    hint.add_argument("dir", type=path_text, metavar="DIR", help="the workbook folder (it remembers the hints shown)")
    hint.add_argument("name", metavar="NAME", help="the exercise")

    train = commands.add_parser("train", help="train a VAE (or --model m2, m1m2) on mnist5k from the workbook's functions")
    train.add_argument("dir", type=path_text, metavar="DIR", help="the workbook whose functions build the model")
    train.add_argument("--model", choices=TRAIN_MODELS, default="vae",
                       help="vae: write what numvae train writes; m2, m1m2: lecture 14's semi-supervised models, "
                            "which use softmax_cross_entropy and unlabelled_bound too, trained as numvae semi "
                            "trains them, printing the test accuracy and writing nothing (default: %(default)s)")
    train.add_argument("--epochs", type=positive_int, help="default: 30 for vae, 20 for m2, 50 (M2's) for m1m2")
    train.add_argument("--hidden", type=positive_int, nargs="+", metavar="UNITS",
                       help=f"vae: hidden layer sizes, as numvae train (default: {' '.join(map(str, TRAIN_DEFAULTS['hidden']))}); "
                            "m2, m1m2: the one hidden layer of M2's networks, as numvae semi (default: 256)")
    train.add_argument("--latent-dim", type=positive_int, help="vae only (default: 2)")
    train.add_argument("--activation", choices=("relu", "tanh", "sigmoid", "softplus"),
                       help="vae only: hidden-layer activation (default: relu)")
    train.add_argument("--likelihood", choices=("bernoulli", "gaussian"),
                       help="vae only: decoder likelihood (default: bernoulli)")
    train.add_argument("--binarize", choices=("none", "threshold", "dynamic"),
                       help="vae only, as numvae train (default: dynamic with a Bernoulli likelihood, none with a Gaussian)")
    train.add_argument("--batch-size", type=positive_int, help="vae only (default: 100)")
    train.add_argument("--lr", type=number(strict=True), help="vae only (default: 0.001)")
    train.add_argument("--out", type=path_text, help="vae only: output directory (default: DIR/run)")
    train.add_argument("--overwrite", action="store_true",
                       help="vae only: train again into --out even if it holds a run (its files are replaced)")
    train.add_argument("--labels-per-class", type=positive_int,
                       help="m2, m1m2 only: labelled training images of each class (default: 10)")
    train.add_argument("--alpha", type=number(strict=False),
                       help="m2, m1m2 only: weight α of the labelled cross-entropy (default: 10 for m2, 1 for m1m2)")
    train.add_argument("--m1-epochs", type=positive_int, help="m1m2 only: epochs of the VAE M1 (default: 30)")
    train.add_argument("--seed", type=non_negative_int, default=0, help="default: %(default)s")
    return parser


def _workbook(directory):
    path = Path(directory)
    if not path.is_dir():
        raise ValueError(f"DIR: expected an existing workbook directory, got {str(directory)!r} "
                         f"(numvae exercises start {shlex.quote(str(directory))} writes one)")
    return path


def cmd_start(args):
    from .catalog import select
    from .workbook import write_workbook

    exercises = select(args.only, "--only")
    written, kept = write_workbook(args.dir, exercises, solutions=args.solutions)
    for path in written:
        say(f"wrote {path}")
    for path in kept:
        say(f"kept  {path} (exists; not overwritten)")
    say(f"next: numvae exercises check {shlex.quote(args.dir)}")
    return 0


def _hypothesis_installed():
    """Whether hypothesis can be found, without the quarter second its import takes (the grading child imports it)."""
    import importlib.util

    try:
        return importlib.util.find_spec("hypothesis") is not None
    except (ImportError, ValueError):  # ValueError: sys.modules["hypothesis"] is None, an import that failed
        return False


QUESTIONS = "questions"


def _grade_questions(directory):
    """Lines for the answered questions of DIR/questions.py, and whether all of them passed."""
    from . import questions
    from .checker import Result

    path = Path(directory) / questions.FILE
    if not path.is_file():
        line = Result(QUESTIONS, "FAIL", f"{path} not found (numvae exercises start DIR writes it)").line()
        return [line], False
    try:
        graded, unanswered = questions.grade(path.read_bytes())
    except (OSError, ValueError) as exc:
        return [Result(QUESTIONS, "FAIL", str(exc)).line()], False
    lines = [Result(qid, status, message).line() for qid, status, message in graded]
    right = sum(status == "pass" for _, status, _ in graded)
    lines.append(f"questions: {right}/{len(graded)} right, {unanswered} not answered yet" if graded else
                 f"questions: none answered yet (replace a None in {questions.FILE} with your answer)")
    return lines, right == len(graded)


def cmd_check(args):
    from .properties import HYPOTHESIS_MISSING
    from .catalog import select
    from .checker import PASS, present
    from .isolated import grade
    from .questions import FILE

    directory = _workbook(args.dir)
    names = [n for n in args.names if n != QUESTIONS]
    with_questions = QUESTIONS in args.names or (not args.names and (directory / FILE).is_file())
    exercises = select(names, "NAME") if names else ([] if args.names else present(directory, select([])))
    if not exercises and not with_questions:
        raise ValueError(f"DIR: {str(directory)!r} holds no exercise files "
                         f"(numvae exercises start {shlex.quote(args.dir)})")
    if exercises and not _hypothesis_installed():
        raise ImportError(HYPOTHESIS_MISSING)
    results = []
    for result in grade(exercises, directory, args.max_examples, args.timeout):  # each in a child process
        results.append(result)
        say(result.line())
    passed = sum(r.status == PASS for r in results)
    if exercises:
        say(f"{passed}/{len(results)} passed")
    answered_right = True
    if with_questions:
        lines, answered_right = _grade_questions(directory)
        for line in lines:
            say(line)
    return 0 if passed == len(results) and answered_right else 1


def cmd_hint(args):
    from .catalog import select
    from .hints import HINTS, next_hints

    directory = _workbook(args.dir)
    select([args.name], "NAME")  # an unknown name: the one-line error that lists the names
    shown = next_hints(directory, args.name)
    for number, text in shown:
        say(f"{args.name} hint {number}/{len(HINTS[args.name])}: {text}")
    if len(shown) == len(HINTS[args.name]):
        say("(that was the last hint: the formula)")
    return 0


def student_functions(directory):
    """The workbook's functions, for every exercise fully written in it: name -> function.

    Returns ``(functions, used)``: ``used`` names the exercises whose code is the student's.
    """
    from .properties.core import describe
    from .catalog import EXERCISES
    from .checker import NOT_STARTED, static_status, load

    functions, used = {}, []
    for exercise in EXERCISES:
        path = Path(directory) / f"{exercise.name}.py"
        if not path.is_file():
            continue
        status = static_status(exercise, path.read_bytes(), path)
        if status is not None and status.status == NOT_STARTED:
            continue
        if status is not None:
            raise ValueError(f"{path}: {status.message}")
        try:
            module = load(path, exercise.name)
        except (Exception, SystemExit) as exc:
            raise ValueError(f"{path}: importing it raised {describe(exc)}") from None
        absent = [name for name in exercise.function_names if not callable(getattr(module, name, None))]
        if absent:  # bound only where the file's own code did not run (relu = None, a def under an if)
            raise ValueError(f"{path}: defines no function {absent[0]}")
        functions.update({name: getattr(module, name) for name in exercise.function_names})
        used.append(exercise.name)
    return functions, used


def _failing(directory, used, max_examples=10):
    """The lines of the exercises in ``used`` that fail ``check`` (a quick one: few Hypothesis examples)."""
    from .catalog import select
    from .checker import FAIL
    from .isolated import grade

    if not used or not _hypothesis_installed():
        return []
    return [r.line() for r in grade(select(used), directory, max_examples) if r.status == FAIL]


def cmd_train(args):
    from ..training.threads import set_blas_threads
    from .train import settle_flags, train_semi, train_vae

    directory = _workbook(args.dir)
    settle_flags(args)
    set_blas_threads()  # as numvae train and numvae semi: the same thread count gives the same bits
    functions, used = student_functions(directory)
    say("your functions: " + (", ".join(used) or "none yet") + "; numvae's for the rest")
    unused = [name for name in used if name in M2_EXERCISES]
    if args.model == "vae" and unused:
        say(f"a VAE does not use {', '.join(unused)}: --model m1m2 (or m2) trains M2 with them")
    failing = _failing(directory, used)
    if failing:  # trained all the same: what a wrong function does to training is worth seeing
        say(f"these fail numvae exercises check {shlex.quote(args.dir)} (a quick check), and train as they are:")
        for line in failing:
            say("  " + line)
    if args.model == "vae":
        return train_vae(args, directory, functions)
    return train_semi(args, functions)


COMMANDS = {"start": cmd_start, "check": cmd_check, "hint": cmd_hint, "train": cmd_train}


def run(args):
    """Run ``numvae exercises <command>``; returns the exit status."""
    return COMMANDS[args.exercises_command](args)
