"""Downloading data files from mirrors, keeping only those whose SHA-256 is the expected one.

Nothing is downloaded unless asked (``load_dataset(..., download=True)``,
CLI ``--download``). Files are written through :func:`numvae.util.files.atomic_write`,
so no partial or unverified file ever has its final name.

A timeout on each read does not bound a download: a server that sends a
byte every few seconds never lets a read time out. So a watchdog also
checks the speed, as ``curl --speed-limit --speed-time`` does: a mirror that
delivers fewer than :data:`MIN_RATE` bytes per second, on average over a
stretch of `timeout` seconds, is given up on.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import re
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from numvae.util import checks
from numvae.util.files import atomic_write
from numvae.data.idx import MAX_DATA_BYTES, ChecksumError, DataUnavailableError
from numvae.data.watchdog import Watchdog, open_watched

__all__ = ["MIN_RATE", "MAX_BYTES", "download_files"]

_MAX_TIMEOUT = 86_400.0  # seconds

MIN_RATE = 1_000
"""Bytes per second a mirror must keep up over each stretch of `timeout` seconds.

Low enough for any link still worth the name (11 MB of MNIST take three
hours at this rate), high enough that a trickling server is given up on.
"""

MAX_BYTES = MAX_DATA_BYTES + (1 << 20)
"""The most bytes a download may bring: more is a mirror's fault, not a file to keep.

The largest IDX file numvae reads, plus room for its header and for gzip,
which adds some 0.01 % to data that does not compress. Without a bound, a
mirror that sends bytes for ever would fill the disk.
"""


def download_files(dest_dir: str | os.PathLike, files: Mapping[str, str | None],
                   mirrors: Sequence[str], *, timeout: float = 60.0) -> dict[str, Path]:
    """Download files into `dest_dir`, verifying each SHA-256 digest.

    For each file, mirrors are tried in order (URL = mirror + file name)
    until one answers; a network or HTTP error moves on to the next mirror,
    but a digest mismatch stops at once, since a wrong file is not a network
    hiccup (an empty body is one, and so is a body the server encoded for
    transit, Content-Encoding, although http.client asks for identity). Data is written to a temporary file in `dest_dir` and renamed
    into place only once its digest matches, so no partial or unverified
    file ever has the final name. A file already present with the right
    digest is not fetched again. A mirror that promises or sends more than
    :data:`MAX_BYTES` is given up on before it can fill the disk.

    Parameters
    ----------
    dest_dir : str or os.PathLike
        Created if missing.
    files : mapping of str to str
        File name -> expected SHA-256 hex digest. A missing digest (None or
        "") is refused rather than downloading unverified data.
    mirrors : sequence of str
        Base URLs (http:// or https://), tried in order.
    timeout : float
        Seconds to wait for a connection or for data before giving up on a
        mirror; > 0 and at most a day (86,400). It is also the length of the
        stretches over which the speed is checked: a mirror that delivers
        fewer than ``MIN_RATE * timeout`` bytes in `timeout` seconds
        (connecting and the response's headers included) is too slow and the
        next one is tried. So a server that trickles is given up on within
        about twice `timeout` of slowing down, while a steady download above
        :data:`MIN_RATE` bytes per second is never cut off, however long it
        takes.

    Returns
    -------
    dict of str to Path
        File name -> path of the verified file.

    Raises
    ------
    ChecksumError
        Downloaded bytes do not match the expected digest.
    DataUnavailableError
        No digest for a file, or every mirror failed (each URL and its error
        are listed).
    ValueError
        `files` not a mapping of plain file names (no directory) to digests of
        64 hex digits; `mirrors` not a non-empty list of http(s) URLs; a
        `timeout` that is not a number > 0 and at most a day.
    OSError
        `dest_dir` is a file (NotADirectoryError), or a file cannot be written
        in it (read-only, full, something in the way); raised at once, naming
        the file, since no mirror can help.
    """
    files, mirrors, timeout = _checked(files, mirrors, timeout)
    dest_dir = Path(dest_dir)
    if dest_dir.exists() and not dest_dir.is_dir():  # mkdir would say "File exists"
        raise NotADirectoryError(errno.ENOTDIR, f"cannot download into {dest_dir}: it is a file")
    dest_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for file_name, expected in files.items():
        target = dest_dir / file_name
        if not (target.is_file() and _sha256_of_file(target) == expected):
            _fetch_verified(file_name, expected, target, mirrors, timeout)
        paths[file_name] = target
    return paths


def _checked(files, mirrors, timeout):
    """The arguments of :func:`download_files`, checked before any request."""
    if not isinstance(files, Mapping):
        raise ValueError(f"files: expected a mapping of file name to SHA-256 digest, got {files!r}")
    for file_name in files:  # a name with a directory in it would be written outside dest_dir
        if not isinstance(file_name, str) or file_name in ("", ".", "..") or re.search(r"[/\\]", file_name):
            raise ValueError(f"files: expected a plain file name, got {file_name!r}")
    unverifiable = [file_name for file_name, digest in files.items() if not digest]
    if unverifiable:
        raise DataUnavailableError(
            f"no known SHA-256 digest for {', '.join(unverifiable)}; "
            "refusing to download a file that cannot be verified"
        )
    for file_name, digest in files.items():  # else a typo would blame the download
        if not (isinstance(digest, str) and re.fullmatch(r"[0-9a-fA-F]{64}", digest)):
            raise ValueError(f"files: expected a SHA-256 digest (64 hex digits) for {file_name}, "
                             f"got {digest!r}")
    if isinstance(mirrors, (str, bytes)):  # would be tried letter by letter
        raise ValueError(f"mirrors: expected a list of base URLs, got the string {mirrors!r}")
    try:
        mirrors = list(mirrors)  # an iterator would be used up by the first file
    except TypeError:
        raise ValueError(f"mirrors: expected a list of base URLs, got {mirrors!r}") from None
    if not mirrors:
        raise ValueError("mirrors: expected at least one base URL, got []")
    for mirror in mirrors:  # the watchdog sees only HTTP(S) connections
        try:
            url = urllib.parse.urlsplit(mirror) if isinstance(mirror, str) else None
        except ValueError:  # "http://[": Invalid IPv6 URL
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"mirrors: expected http:// or https:// URLs, got {mirror!r}")
    timeout = checks.real("timeout", timeout, minimum=0, strict=True)  # None would wait for ever
    if timeout > _MAX_TIMEOUT:  # the OS's clocks overflow long before an infinite one
        raise ValueError(f"timeout: expected at most {_MAX_TIMEOUT:,.0f} seconds (a day), got {timeout!r}")
    return {name: digest.lower() for name, digest in files.items()}, mirrors, timeout


def _sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _MirrorFailure(Exception):
    """A network or HTTP error from one mirror: the next mirror gets a turn.

    Kept apart from OSError because writing the file raises OSError too, and a
    disk that is full or read-only is not a mirror's fault: that error stops
    the download at once, naming the file.
    """


def _from_network(watchdog: Watchdog, call, *args):
    """``call(*args)``, its network errors raised as :class:`_MirrorFailure`.

    A ValueError is the server's too: urllib raises one for a Location it
    cannot follow. If the watchdog cut the connection, its reason ("too
    slow: ...") is the failure, not the error the cut caused.
    """
    try:
        return call(*args)
    except (OSError, http.client.HTTPException) as exc:
        # URLError, HTTPError and timeouts are OSErrors; a dropped connection
        # can surface as http.client.IncompleteRead.
        raise _MirrorFailure(watchdog.reason or str(exc)) from exc
    except ValueError as exc:  # arguments are checked, so the server's answer is at fault: a
        # redirect to "http://[" (Invalid IPv6 URL), a Location urllib cannot encode...
        raise _MirrorFailure(watchdog.reason or f"unusable answer ({type(exc).__name__}: {exc})") from exc


def _fetch_verified(file_name: str, expected: str, target: Path,
                    mirrors: Sequence[str], timeout: float) -> None:
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + urllib.parse.quote(file_name)
        # Some servers turn away urllib's default User-Agent.
        request = urllib.request.Request(url, headers={"User-Agent": "numvae"})
        watchdog = Watchdog(window=timeout, min_bytes=MIN_RATE * timeout)

        def fetch(out):
            digest = hashlib.sha256()
            with _from_network(watchdog, open_watched, request, timeout, watchdog) as response:
                promised = response.length  # Content-Length; None if the server did not say
                encoding = response.headers.get("Content-Encoding", "").strip().lower()
                too_much = f"more than numvae downloads ({MAX_BYTES:,} bytes, numvae.data.download.MAX_BYTES)"
                if promised is not None and promised > MAX_BYTES:
                    raise _MirrorFailure(f"promises {promised:,} bytes, {too_much}")
                # read1 returns what has arrived; read(n) would wait for all n bytes.
                for chunk in iter(lambda: _from_network(watchdog, response.read1, 1 << 20), b""):
                    watchdog.received += len(chunk)  # a new watchdog for each mirror: this body's bytes
                    if watchdog.received > MAX_BYTES:
                        raise _MirrorFailure(f"sent more than {MAX_BYTES:,} bytes, {too_much}")
                    digest.update(chunk)
                    out.write(chunk)
            # read1() returns b"" when the connection drops mid-body, without raising:
            # a short body is a network failure (next mirror), not a wrong file.
            if promised is not None and watchdog.received < promised:
                raise _MirrorFailure(watchdog.reason
                                     or f"connection closed after {watchdog.received:,} of {promised:,} bytes")
            if digest.hexdigest() != expected:
                if watchdog.reason is not None:  # a body without Content-Length, cut short
                    raise _MirrorFailure(watchdog.reason)
                if watchdog.received == 0:  # hung up after the headers: a server's hiccup, not a wrong file
                    raise _MirrorFailure("sent an empty body (0 bytes)")
                if encoding not in ("", "identity"):  # compressed in transit though asked not to
                    raise _MirrorFailure(f"SHA-256 mismatch for a body sent with Content-Encoding: "
                                         f"{encoding}, which numvae does not undo")
                raise ChecksumError(f"{file_name}: SHA-256 mismatch for {url}: "
                                    f"expected {expected}, got {digest.hexdigest()}")

        try:
            with watchdog:
                atomic_write(target, fetch)
            return
        except _MirrorFailure as exc:  # one line each ("infinite loop.\nThe last 30x error ...")
            failures.append(f"{url}: {' '.join(str(exc).split())}")
    raise DataUnavailableError(f"could not download {file_name} from any mirror:\n  "
                               + "\n  ".join(failures))
