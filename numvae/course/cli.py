"""``numvae exercises start|check|hint|train``: self-grading exercises for a VAE course.

``start DIR`` writes a workbook (``--only a,b`` for one week's part,
``--solutions`` for the lecturer's copy, with the questions' answer key);
``check DIR [NAME ...]`` grades it, one line per exercise and per answered
question (NAME ``questions``: the answers only), exit status 0 exactly when
everything requested passes; ``hint DIR NAME`` shows the next of an
exercise's graded hints; ``train DIR`` first says which exercises fail
``check``, then trains a VAE on mnist5k from the student's functions and
writes what ``numvae train`` writes (``--overwrite`` trains again into a
folder that holds a run). Exposes ``add_parser(subparsers)`` and ``run(args)``
like every subcommand module.
"""

import argparse
import shlex
import time
from pathlib import Path

import numpy as np

from ..cli.common import say  # progress to stdout that outlives its reader (| head -1)


def _names(text):
    """``--only A,B``: the names, a stray comma ignored; none at all (``--only ""``) is a usage error."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:  # it used to mean every exercise
        raise argparse.ArgumentTypeError(f"expected exercise names separated by commas, got {text!r}")
    return names


def add_parser(subparsers):
    """Register ``exercises`` and its sub-subcommands on the ``numvae`` parser."""
    from ..cli.common import non_negative_int, number, path_text, positive_int
    from ..cli.train import TRAIN_DEFAULTS  # exercises train defaults to what numvae train does

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

    train = commands.add_parser("train", help="train a VAE on mnist5k from the workbook's functions")
    train.add_argument("dir", type=path_text, metavar="DIR", help="the workbook whose functions build the VAE")
    train.add_argument("--epochs", type=positive_int, default=30, help="default: %(default)s")
    train.add_argument("--latent-dim", type=positive_int, default=2, help="default: %(default)s")
    train.add_argument("--hidden", type=positive_int, nargs="+", default=TRAIN_DEFAULTS["hidden"],
                       help=f"hidden layer sizes, as numvae train (default: {' '.join(map(str, TRAIN_DEFAULTS['hidden']))})")
    train.add_argument("--activation", choices=("relu", "tanh", "sigmoid", "softplus"), default="relu",
                       help="hidden-layer activation (default: %(default)s)")
    train.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default="bernoulli",
                       help="decoder likelihood (default: %(default)s)")
    train.add_argument("--binarize", choices=("none", "threshold", "dynamic"),
                       help="as numvae train (default: dynamic with a Bernoulli likelihood, none with a Gaussian)")
    train.add_argument("--batch-size", type=positive_int, default=100, help="default: %(default)s")
    train.add_argument("--lr", type=number(strict=True), default=1e-3, help="default: %(default)s")
    train.add_argument("--seed", type=non_negative_int, default=0, help="default: %(default)s")
    train.add_argument("--out", type=path_text, help="output directory (default: DIR/run)")
    train.add_argument("--overwrite", action="store_true",
                       help="train again into --out even if it holds a run (its files are replaced)")
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
    from ..cli import rundir
    from ..training.threads import set_blas_threads
    from .swap import swapped

    set_blas_threads()  # as numvae train: the same thread count gives the same bits
    directory = _workbook(args.dir)
    functions, used = student_functions(directory)
    say("your functions: " + (", ".join(used) or "none yet") + "; numvae's for the rest")
    failing = _failing(directory, used)
    if failing:  # trained all the same: what a wrong function does to training is worth seeing
        say(f"these fail numvae exercises check {shlex.quote(args.dir)} (a quick check), and train as they are:")
        for line in failing:
            say("  " + line)
    out = Path(args.out) if args.out else directory / "run"
    # As numvae train: --out checked writable and locked for the whole run (a second run on it
    # refuses, naming the holder), and stale temporaries of a killed save removed.
    with rundir.prepare(out):
        if (out / "model.npz").exists() and not args.overwrite:
            raise ValueError(f"--out: {out / 'model.npz'} exists; add --overwrite to train again into it, "
                             "or choose another --out")
        with swapped(functions):  # numvae's VAE and Adam, built and run on the student's functions
            return _train_into(args, out)


def _train_into(args, out):
    """Train numvae's VAE into the prepared directory ``out``; returns the exit status."""
    from ..cli import write_figures, write_history_csv
    from ..cli.train import default_binarize
    from ..data.datasets import load_dataset
    from .properties.core import describe
    from ..training.trainer import TrainConfig, Trainer
    from ..vae import VAE

    dataset = load_dataset("mnist5k", dtype=np.float32)
    model = VAE(
        input_dim=dataset.x_train.shape[1], hidden_dims=args.hidden, latent_dim=args.latent_dim,
        likelihood=args.likelihood, activation=args.activation,
        sigma=0.1 if args.likelihood == "gaussian" else None, dtype=np.float32, seed=args.seed,
    )
    binarize = args.binarize or default_binarize(args.likelihood)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, binarize=binarize, seed=args.seed)
    trainer = Trainer(model, dataset.x_train, dataset.x_test, config)  # numvae.Adam on model.parameters()
    history_csv = out / "history.csv"

    def on_epoch(t, row):
        say(f"epoch {row['epoch']:>3}/{config.epochs}  train loss {row['train_loss']:8.2f}  "
            f"test loss {row['test_loss']:8.2f}  {row['seconds']:.1f}s")
        write_history_csv(t.history, history_csv)

    start = time.perf_counter()
    try:
        trainer.fit(checkpoint_path=out / "model.npz", checkpoint_extra={"dataset": dataset.name}, on_epoch=on_epoch)
    except OSError:
        raise
    except (Exception, SystemExit) as exc:  # a student's function failing (or calling exit()) mid-run: one line
        # The traceback's frames are gone from one line: check names the function, and why.
        raise ValueError(f"training stopped: {describe(exc)} (numvae exercises check {shlex.quote(args.dir)} "
                         "tests each of your functions on its own)") from None
    written = [out / "model.npz", history_csv, *write_figures(model, trainer.history, dataset, out, seed=args.seed)]
    say(f"trained {trainer.epoch} epochs in {time.perf_counter() - start:.1f}s; wrote "
        + ", ".join(str(p) for p in written))
    return 0


COMMANDS = {"start": cmd_start, "check": cmd_check, "hint": cmd_hint, "train": cmd_train}


def run(args):
    """Run ``numvae exercises <command>``; returns the exit status."""
    return COMMANDS[args.exercises_command](args)
