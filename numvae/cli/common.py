"""What every subcommand shares: the one-line parser, argument types, errors, output.

A subcommand module exposes ``add_parser(subparsers)``, ``run(args)`` and,
optionally, ``MEMORY_HINT``: the flags of that command that bound its memory,
named in the message when it runs out (see :mod:`numvae.cli`).
"""

import argparse
import math
import os
import sys


DATA_DIR_HELP = ("directory holding the IDX files of mnist or fashion-mnist "
                 "(default: $NUMVAE_DATA, else ${XDG_CACHE_HOME:-~/.cache}/numvae/DATASET; fashion-mnist is also "
                 "looked for in /usr/share/datasets/fashion-mnist, Debian's dataset-fashion-mnist)")
DOWNLOAD_HELP = ("download mnist or fashion-mnist from public mirrors if not found or unreadable, "
                 "checking their SHA-256")


class CommandError(Exception):
    """An error the command line reports as one line."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (not usage + error) and exit status 2.

    Every parser sets the default ``prog`` to its own name; the deepest
    subcommand's default wins, so ``args.prog`` is the name errors start with
    ("numvae train", "numvae exercises check"), as argparse's own errors do.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_defaults(prog=self.prog)

    def error(self, message, prog=None):
        prog = prog or self.prog
        self.exit(2, f"{prog}: error: {message} (see '{prog} --help')\n")

    def parse_args(self, args=None, namespace=None):
        # argparse reports a subcommand's unknown option as the top parser's ("numvae: error:");
        # name the subcommand that was given it, as its other errors do.
        args, extras = self.parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}", prog=getattr(args, "prog", None))
        return args


def flag(name):
    """``"batch_size"`` -> ``"--batch-size"``."""
    return "--" + name.replace("_", "-")


def one_line(text):
    """Any message as one line: runs of white space (newlines too) become one space."""
    return " ".join(str(text).split())


def _integer(text, minimum, what):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def positive_int(text):
    return _integer(text, 1, "a positive integer")


def non_negative_int(text):
    return _integer(text, 0, "a non-negative integer")


def bounded_int(maximum, why):
    """A positive integer at most ``maximum``; ``why`` says what the bound protects."""

    def parse(text):
        value = positive_int(text)
        if value > maximum:
            raise argparse.ArgumentTypeError(f"expected a positive integer at most {maximum:,} ({why}), got {text!r}")
        return value

    return parse


def number(strict):
    """A finite number, > 0 if ``strict`` else >= 0."""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0 or (strict and value == 0):
            raise argparse.ArgumentTypeError(
                f"expected a {'positive' if strict else 'non-negative'} number, got {text!r}"
            )
        return value

    return parse


def path_text(text):
    """A path given on the command line: never empty (an empty ``--out`` is a typo, not a default)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a path, got {text!r}")
    return text


class _Stdout:
    """Prints progress to stdout; once the reader has gone (``numvae train | head -1``)
    the rest is discarded, and the command carries on: its results are files."""

    closed = False

    def say(self, text):
        if self.closed:
            return
        try:
            try:
                print(text, flush=True)
            except UnicodeEncodeError:  # a path not in stdout's encoding: escaped, not taken for a closed reader
                encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
                print(text.encode(encoding, "backslashreplace").decode(encoding), flush=True)
        except (BrokenPipeError, ValueError):  # ValueError: sys.stdout itself was closed
            self.closed = True
            # Python flushes stdout once more at exit; point fd 1 at /dev/null so
            # that flush cannot fail and print "Exception ignored ... BrokenPipeError".
            discard(sys.stdout)


stdout = _Stdout()
say = stdout.say


def discard(stream):
    """Point ``stream``'s file descriptor at /dev/null, once its reader has gone: what is still written to it
    (its buffer, Python's last flush at exit) then goes nowhere instead of raising BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # ValueError: the stream itself was closed
        pass
