"""Writing files so that nothing the user had is lost: temporary name, then rename.

Every file numvae writes (checkpoints, figures, CSV histories, IDX files,
downloads) goes through :func:`atomic_write`: the bytes go to a hidden
temporary file in the destination directory, reach the disk, and only then
take the final name with ``os.replace`` — an atomic rename on POSIX and
Windows — and the directory is synced so that the rename survives a crash too. A reader sees either the old file or the complete new one; a failure
(an exception, a full disk, Ctrl-C) removes the temporary and leaves the old
file as it was.
"""

import errno
import os
import secrets
from pathlib import Path


def atomic_write(path, write):
    """Call ``write(binary_file)`` on a temporary file, then move it to ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The destination; its parent directories are created if missing.
    write : callable
        Receives the open binary file; may raise to abandon the write (the
        temporary is then removed and the exception propagates).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # exist_ok forgives a directory, not a file in the way
        raise NotADirectoryError(errno.ENOTDIR, f"cannot write {path}: Not a directory") from None
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # Mode 0o666 lets the umask decide, as for any new file
    # (tempfile.mkstemp would force owner-only 0o600).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(tmp, flags, 0o666)
    except OSError as exc:
        # Name the file the user asked for, not our temporary.
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())  # the bytes must reach the disk before the new name does
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno is None:
            raise
        # A full disk, a directory in the way...: name the user's file, never the temporary.
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)
    return path


def _sync_directory(directory):
    """Make a rename in ``directory`` durable (POSIX; a no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a directory; the rename has happened
    finally:
        os.close(fd)
