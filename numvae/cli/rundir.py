"""The output directory of a training run: checked, locked, cleaned, kept consistent.

* :func:`prepare` creates ``--out``, proves it writable before any training,
  and takes an exclusive lock on it for the whole run (``fcntl.flock`` on
  ``OUT/.lock``, which names its holder, and is removed at the end). The kernel
  drops the lock when its process ends, however it ends, so a run killed with
  SIGKILL never leaves a lock behind that the next run has to break.
* It then removes the run's own stale temporaries (``.model.npz.<hex>.tmp``
  …), which only a killed save leaves behind (:func:`numvae.util.files.atomic_write`).
* :func:`write_history_csv` writes ``history.csv`` from the checkpoint's
  history, so the two can never disagree: the history lives in the checkpoint.
"""

import contextlib
import csv
import io
import os
import re
import socket
import time
from pathlib import Path

from ..util.files import atomic_write
from .common import CommandError

LOCK_NAME = ".lock"
_STALE_TEMPORARY = re.compile(r"^\.(model\.npz|history\.csv|[\w.-]+\.png|\.write-test)\.[0-9a-f]{12}\.tmp$")


@contextlib.contextmanager
def prepare(out):
    """Create, check, lock and clean the directory ``out`` for one run (a context manager).

    Yields the number of stale temporary files it removed. Raises
    :class:`CommandError` (naming ``--out``) if the directory cannot be made,
    cannot be written, or is held by another run. The lock file is removed
    when the run ends (one killed with SIGKILL leaves it, unlocked, behind).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out: expected a directory, got the file {str(out)!r}")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"--out: cannot write in {str(out)!r}: {exc.filename}: {exc.strerror}") from None
    fd = _lock(out)
    try:
        info = f"pid {os.getpid()} on {socket.gethostname()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}"
        os.ftruncate(fd, 0)
        os.pwrite(fd, info.encode() + b"\n", 0)
        _check_writable(out)
        yield remove_stale_temporaries(out)
    finally:
        # Unlinked while still held: a run that opened the old file sees it gone (see _lock).
        (out / LOCK_NAME).unlink(missing_ok=True)
        if created and not any(out.iterdir()):
            out.rmdir()  # a run that failed before writing anything leaves no empty directory
        os.close(fd)  # releases the lock


def _lock(out):
    """Open ``OUT/.lock`` and take the exclusive lock on it; returns the descriptor."""
    import fcntl

    path = out / LOCK_NAME
    while True:
        try:
            # O_NOFOLLOW: a symlink planted as .lock must not make us truncate its target.
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
        except OSError as exc:
            raise CommandError(f"--out: cannot write in {str(out)!r}: {exc.filename}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise CommandError(
                f"--out: {str(out)!r} is in use by another numvae run ({holder}); "
                "wait for it to finish, or choose another --out"
            ) from None
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder finished and removed it just now: lock the new file instead


def _check_writable(out):
    """Write, sync and rename a small file in ``out`` as every save will, then remove it."""
    probe = out / ".write-test"
    try:
        atomic_write(probe, lambda f: f.write(b"numvae\n"))
        probe.unlink()
    except OSError as exc:
        raise CommandError(f"--out: cannot write in {str(out)!r}: {exc.strerror}") from None


def remove_stale_temporaries(out):
    """Remove the temporaries an interrupted save left in ``out``; returns how many.

    Only names numvae itself writes are touched, and only while the run holds the lock.
    """
    removed = 0
    for path in Path(out).iterdir():
        if _STALE_TEMPORARY.match(path.name) and path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


@contextlib.contextmanager
def sigint_held():
    """Hold Ctrl-C back (it is delivered on leaving) where stopping half-way would cost a file.

    The handler is swapped rather than the signal blocked: Ctrl-C is sent to
    the whole process, and the kernel may hand it to any thread that does not
    block it (BLAS starts several), after which Python raises it in the main
    thread all the same.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            if callable(previous):
                previous(signal.SIGINT, None)  # Python's default raises KeyboardInterrupt here
            elif previous == signal.SIG_DFL:
                os.kill(os.getpid(), signal.SIGINT)


def write_history_csv(history, path):
    """Write ``history`` (column name -> list of values) as CSV, atomically; returns ``path``."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(history)
    writer.writerows(zip(*history.values()))
    return atomic_write(path, lambda f: f.write(text.getvalue().encode()))


def history_of(checkpoint):
    """The history saved in ``checkpoint`` (a path), read without loading the model."""
    from ..training.checkpoint import read_meta

    return read_meta(checkpoint)["history"]
