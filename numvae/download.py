"""Downloading data files from mirrors, keeping only those whose SHA-256 is the expected one.

Nothing is downloaded unless asked (``load_dataset(..., download=True)``,
CLI ``--download``). Files are written through :func:`numvae.files.atomic_write`,
so no partial or unverified file ever has its final name.

A timeout on each read does not bound a download: a server that sends a
byte every few seconds never lets a read time out. So a watchdog also
checks the speed, as ``curl --speed-limit --speed-time`` does: a mirror that
delivers fewer than :data:`MIN_RATE` bytes per second, on average over a
stretch of `timeout` seconds, is given up on.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from numvae import checks
from numvae.files import atomic_write
from numvae.idx import ChecksumError, DataUnavailableError
from numvae.watchdog import Watchdog, open_watched

__all__ = ["MIN_RATE", "download_files"]

MIN_RATE = 1_000
"""Bytes per second a mirror must keep up over each stretch of `timeout` seconds.

Low enough for any link still worth the name (11 MB of MNIST take three
hours at this rate), high enough that a trickling server is given up on.
"""


def download_files(dest_dir: str | os.PathLike, files: Mapping[str, str | None],
                   mirrors: Sequence[str], *, timeout: float = 60.0) -> dict[str, Path]:
    """Download files into `dest_dir`, verifying each SHA-256 digest.

    For each file, mirrors are tried in order (URL = mirror + file name)
    until one answers; a network or HTTP error moves on to the next mirror,
    but a digest mismatch stops at once, since a wrong file is not a network
    hiccup. Data is written to a temporary file in `dest_dir` and renamed
    into place only once its digest matches, so no partial or unverified
    file ever has the final name. A file already present with the right
    digest is not fetched again.

    Parameters
    ----------
    dest_dir : str or os.PathLike
        Created if missing.
    files : mapping of str to str
        File name -> expected SHA-256 hex digest. A missing digest (None or
        "") is refused rather than downloading unverified data.
    mirrors : sequence of str
        Base URLs, tried in order.
    timeout : float
        Seconds to wait for a connection or for data before giving up on a
        mirror; finite and > 0. It is also the length of the stretches over
        which the speed is checked: a mirror that delivers fewer than
        ``MIN_RATE * timeout`` bytes in `timeout` seconds (connecting and
        the response's headers included) is too slow and the next one is
        tried. So a server that trickles is given up on within about twice
        `timeout` of slowing down, while a steady download above
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
        A digest that is not 64 hex digits, no mirrors, or a `timeout` that is
        not a finite number > 0.
    OSError
        A file cannot be written in `dest_dir` (read-only, full, something in
        the way); raised at once, naming the file, since no mirror can help.
    """
    unverifiable = [file_name for file_name, digest in files.items() if not digest]
    if unverifiable:
        raise DataUnavailableError(
            f"no known SHA-256 digest for {', '.join(unverifiable)}; "
            "refusing to download a file that cannot be verified"
        )
    for file_name, digest in files.items():
        if not re.fullmatch(r"[0-9a-fA-F]{64}", digest):  # else a typo would blame the download
            raise ValueError(f"files: expected a SHA-256 digest (64 hex digits) for {file_name}, "
                             f"got {digest!r}")
    if not mirrors:
        raise ValueError("mirrors must list at least one base URL")
    timeout = checks.real("timeout", timeout, minimum=0, strict=True)  # None would wait for ever
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for file_name, expected in files.items():
        target = dest_dir / file_name
        if not (target.is_file() and _sha256_of_file(target) == expected.lower()):
            _fetch_verified(file_name, expected.lower(), target, mirrors, timeout)
        paths[file_name] = target
    return paths


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

    If the watchdog cut the connection, its reason ("too slow: ...") is
    the failure, not the error the cut caused.
    """
    try:
        return call(*args)
    except (OSError, http.client.HTTPException) as exc:
        # URLError, HTTPError and timeouts are OSErrors; a dropped connection
        # can surface as http.client.IncompleteRead.
        raise _MirrorFailure(watchdog.reason or str(exc)) from exc


def _fetch_verified(file_name: str, expected: str, target: Path,
                    mirrors: Sequence[str], timeout: float) -> None:
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + file_name
        # Some servers turn away urllib's default User-Agent.
        request = urllib.request.Request(url, headers={"User-Agent": "numvae"})
        watchdog = Watchdog(window=timeout, min_bytes=MIN_RATE * timeout)

        def fetch(out):
            digest = hashlib.sha256()
            with _from_network(watchdog, open_watched, request, timeout, watchdog) as response:
                promised = response.length  # Content-Length; None if the server did not say
                received = 0
                # read1 returns what has arrived; read(n) would wait for all n bytes.
                for chunk in iter(lambda: _from_network(watchdog, response.read1, 1 << 20), b""):
                    watchdog.received += len(chunk)
                    digest.update(chunk)
                    out.write(chunk)
                    received += len(chunk)
            # read1() returns b"" when the connection drops mid-body, without raising:
            # a short body is a network failure (next mirror), not a wrong file.
            if promised is not None and received < promised:
                raise _MirrorFailure(watchdog.reason
                                     or f"connection closed after {received:,} of {promised:,} bytes")
            if digest.hexdigest() != expected:
                if watchdog.reason is not None:  # a body without Content-Length, cut short
                    raise _MirrorFailure(watchdog.reason)
                raise ChecksumError(f"{file_name}: SHA-256 mismatch for {url}: "
                                    f"expected {expected}, got {digest.hexdigest()}")

        try:
            with watchdog:
                atomic_write(target, fetch)
            return
        except _MirrorFailure as exc:
            failures.append(f"{url}: {exc}")
    raise DataUnavailableError(f"could not download {file_name} from any mirror:\n  "
                               + "\n  ".join(failures))
