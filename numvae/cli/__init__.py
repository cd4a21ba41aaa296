"""The ``numvae`` command: ``train``, ``evaluate``, ``sample``, ``semi`` and ``exercises``.

Run ``numvae train`` with no arguments for the offline default: a VAE with a
2-D latent space on the 5,000-image MNIST subset, writing
``runs/mnist5k/model.npz``, ``history.csv`` and the figures.

Every error (a bad argument, a missing or damaged file, unavailable data, a
diverged run) is printed as one line on stderr, with exit status 1 (2 for a
malformed command line), and no traceback. Ctrl-C exits with status 130 at
any moment, imports included; SIGTERM (``kill``, ``timeout``, a batch
scheduler) stops a running command the same careful way, with status 143.

Each subcommand is a module with ``add_parser(subparsers)`` and ``run(args)``
(which may return an exit status), and optionally ``MEMORY_HINT`` (see
:mod:`numvae.cli.common`); adding one is adding its name to :data:`SUBCOMMANDS`.
"""

import os

# The C module under ``signal``, which is slow to import (it loads ``enum``):
# the console script imports this module first thing, before Ctrl-C is handled.
import _signal as signal

SUBCOMMANDS = (
    "numvae.cli.train",
    "numvae.cli.evaluate",
    "numvae.cli.sample",
    "numvae.cli.semi",
    "numvae.course.cli",
)
"""The modules of the subcommands, in the order ``numvae --help`` lists them.
They are imported by :func:`main`, after Ctrl-C handling is in place."""


_SHARED = {"write_figures": "figures", "write_history_csv": "rundir"}
"""What other commands reuse (``numvae exercises train`` writes what ``train`` writes),
imported on first use so that importing this package stays instant."""


def __getattr__(name):
    if name not in _SHARED:
        raise AttributeError(f"module 'numvae.cli' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{_SHARED[name]}", __name__), name)


def _interrupted_while_starting(signum, frame):
    # Nothing has been written yet, so there is nothing to clean up.
    os.write(2, b"numvae: interrupted\n")
    os._exit(130)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so that a run stops as carefully
    (its files in step, its temporaries and its lock removed)."""


def _terminate(signum, frame):
    raise Terminated


def _in_main_thread():
    import threading  # only signal handlers of the main thread can be set

    return threading.current_thread() is threading.main_thread()


def build_parser():
    """The parser of all subcommands; each parsed ``args`` carries its ``run`` and ``module``."""
    import importlib

    from .. import __version__
    from .common import Parser

    parser = Parser(prog="numvae", description="A Variational Autoencoder in NumPy, for teaching.")
    parser.add_argument("--version", action="version", version=f"numvae {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=Parser)
    commands.required = True
    for name in SUBCOMMANDS:
        module = importlib.import_module(name)
        before = set(commands.choices)
        module.add_parser(commands)
        for command in set(commands.choices) - before:
            commands.choices[command].set_defaults(run=module.run, module=module)
    commands.metavar = "{" + ",".join(commands.choices) + "}"
    return parser


def main(argv=None):
    """Entry point of ``numvae`` and ``python -m numvae``; returns the exit status."""
    # Ctrl-C while NumPy and matplotlib load: exit 130 at once, no traceback.
    # The run itself gets KeyboardInterrupt, so it can stop between two saves.
    # A SIGINT ignored by whoever started us (a background job) stays ignored.
    # SIGTERM is handled even then: a script's background job (numvae train &) starts with SIGINT
    # ignored, and a SIGTERM sent to it used to end it on the spot, leaving its lock (check: its
    # temporary folder) behind.
    previous = signal.getsignal(signal.SIGINT)
    main_thread = _in_main_thread()
    handle = previous is not signal.SIG_IGN and main_thread
    previous_sigterm = signal.getsignal(signal.SIGTERM) if main_thread else None
    if handle:
        signal.signal(signal.SIGINT, _interrupted_while_starting)
    try:
        return _main(argv, handle, main_thread)
    finally:
        if handle:
            signal.signal(signal.SIGINT, previous)
        if previous_sigterm is not None:  # None: a handler set outside Python, left as it was
            signal.signal(signal.SIGTERM, previous_sigterm)


def _main(argv, handle_interrupt, handle_sigterm=False):
    import sys

    from ..training.checkpoint import CheckpointError
    from ..data.idx import DataUnavailableError, IDXFormatError
    from ..training.trainer import TrainingDiverged
    from .common import CommandError, one_line, stdout

    args = build_parser().parse_args(argv)  # args.prog: "numvae train", "numvae exercises check", ...
    stdout.closed = False
    expected = (
        CommandError,
        CheckpointError,
        DataUnavailableError,
        IDXFormatError,
        TrainingDiverged,
        ValueError,
        ImportError,
        OSError,
    )
    if handle_interrupt:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if handle_sigterm and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # one ignored by whoever started us stays so
        signal.signal(signal.SIGTERM, _terminate)
    try:
        status = args.run(args)  # None, or an exit status of the command's own (e.g. a failed check)
    except Terminated:
        print(f"{args.prog}: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print(f"{args.prog}: interrupted", file=sys.stderr)
        return 130
    except MemoryError as exc:
        hint = getattr(args.module, "MEMORY_HINT", "")
        detail = f" ({one_line(exc)})" if str(exc) else ""
        print(f"{args.prog}: error: out of memory{detail}{'; ' + hint if hint else ''}", file=sys.stderr)
        return 1
    except expected as exc:
        message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)  # no "[Errno 2]"
        if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in message:
            message += f": {exc.filename}"
        print(f"{args.prog}: error: {one_line(message)}", file=sys.stderr)
        return 1
    return status or 0
