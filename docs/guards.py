"""What keeps a site build from losing or leaving anything, and puts each problem in one line.

* :class:`BuildError`: a problem the user can fix, which ``docs/build.py``
  prints as one line.
* Ctrl-C raises KeyboardInterrupt and SIGTERM :class:`Terminated` (once
  ``main`` has set :func:`raise_terminated` as its handler); once the build
  is stopping or done, :func:`ignore_stop_signals`.
* :func:`one_build_at_a_time`: a lock next to OUTDIR, so that a second build
  into the same OUTDIR is refused.
* A disk or quota that fills up, as one line naming the folder and what to
  do: :func:`room_in_tmpdir` (the staging folder), :func:`outdir_error` and
  :func:`outdir_full` (next to OUTDIR).
"""

import contextlib
import errno
import fcntl
import os
import shutil
import signal
import tempfile
from pathlib import Path

NO_ROOM = {number: os.strerror(number) for number in (errno.ENOSPC, errno.EDQUOT)}  # a full disk, a full quota
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class BuildError(Exception):
    """A problem the user can fix, reported as one line."""


class Terminated(BaseException):
    """SIGTERM (``kill PID``, ``timeout``, a CI job cancelled), raised as Ctrl-C raises KeyboardInterrupt.

    SIGTERM's default action would kill the build on the spot, leaving its
    partial site and staging folder behind, and its kernels running until
    they notice (ipykernel looks for its parent once a second).
    """


def raise_terminated(signum, frame):
    raise Terminated()


def ignore_stop_signals():
    """Ignore Ctrl-C and SIGTERM from now on (``main`` restores them).

    Called once the build is stopping or done, for the steps that must not be
    cut in half by a second Ctrl-C: shutting the kernels down, moving the new
    site into place, removing the partial and staging folders. Each takes a
    moment.
    """
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


@contextlib.contextmanager
def room_in_tmpdir():
    """A disk or quota that fills up under the staging folder, as one line naming TMPDIR's folder."""
    try:
        yield
    except OSError as error:
        if error.errno not in NO_ROOM:
            raise
        raise BuildError(f"TMPDIR: expected room for the staging folder in {tempfile.gettempdir()}, got "
                         f"'{error.strerror}' (free some, or set TMPDIR to a folder with more room)") from error


@contextlib.contextmanager
def one_build_at_a_time(outdir):
    """Hold a lock on ``.NAME.lock`` next to OUTDIR while the build runs; refuse when another build holds it.

    Two builds into one OUTDIR (the build started twice by mistake) would
    both run every lecture, and the second to finish would fail to rename its
    site into place, or move the first one's away. The system releases the
    lock when the build dies, however it dies; the file goes when it ends.

    Yields a function that records, in the lock file, a folder the build made
    (its partial site, staging and sockets folders). A build killed outright
    (SIGKILL, the OOM killer, a power cut) leaves them, and its lock file: the
    next build into the same OUTDIR removes them.
    """
    path = outdir.parent / f".{outdir.name}.lock"
    lock = None
    try:
        outdir.parent.mkdir(parents=True, exist_ok=True)
        lock, left = locked(path, outdir)
        lock.write(str(os.getpid()).encode())  # for the message of a second build
    except OSError as error:  # a folder that cannot be written, or a full disk (found before the lectures run)
        release(lock, path)
        raise outdir_error(outdir, error) from error
    remove_leftovers(left, outdir)

    def record(folder):
        try:
            lock.write(f"\n{folder}".encode())
        except OSError:  # a full disk: the folder is removed all the same, unless the build is killed
            pass

    try:
        yield record
    finally:
        release(lock, path)


def remove_leftovers(folders, outdir):
    """Remove the folders a killed build recorded in its lock file: only such as a build makes.

    A build killed between renaming the previous site away and renaming the new one into place left no
    OUTDIR: the previous site is put back first.
    """
    for folder in map(Path, folders):
        if folder.name.startswith((f".{outdir.name}.partial-", "numvae-")) and folder.is_absolute():
            if folder.parent == outdir.parent and not os.path.lexists(outdir) and (folder / "previous").is_dir():
                (folder / "previous").rename(outdir)
            shutil.rmtree(folder, ignore_errors=True)


def locked(path, outdir):
    """``(the file at path, emptied and locked, the folders a killed build recorded in it)``.

    BuildError naming the build that holds it, if one does.
    """
    while True:
        lock = open(path, "a+b", buffering=0)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            pid = lock.read().decode(errors="replace").split("\n")[0].strip()
            lock.close()
            raise BuildError(f"OUTDIR: expected no other build writing it, got one running"
                             f"{f' (pid {pid})' if pid else ''}: {outdir}") from None
        try:
            if os.path.samestat(os.fstat(lock.fileno()), os.stat(path)):
                lock.seek(0)
                left = lock.read().decode(errors="replace").split("\n")[1:]
                lock.truncate(0)
                return lock, [folder for folder in left if folder]
        except FileNotFoundError:
            pass
        lock.close()  # locked just as the build that held it removed it: lock the file there now


def release(lock, path):
    if lock is not None:
        path.unlink(missing_ok=True)  # before the lock is released, so that no other build locks a removed file
        lock.close()


def outdir_error(outdir, error):
    """The one line for an OSError met while writing next to OUTDIR."""
    if error.errno in NO_ROOM:
        return outdir_full(outdir.parent, error.strerror)
    return BuildError(f"OUTDIR: expected a folder that can be written, got {outdir} "
                      f"({error.strerror}: {error.filename})")


def outdir_full(folder, strerror):
    """The one line for a disk or quota that filled up under ``folder``, next to OUTDIR."""
    return BuildError(f"OUTDIR: expected room for the site in {folder}, got '{strerror}' "
                      "(free some, or choose an OUTDIR on another disk)")
