"""Giving up on an HTTP transfer that is too slow, however often it sends a byte.

A socket timeout bounds each read, not a transfer: a server that sends one
byte every few seconds never lets a read time out. :class:`Watchdog` checks
the speed instead, the rule of ``curl --speed-limit --speed-time``: at least
so many bytes in every stretch of so many seconds. When a stretch falls
short it shuts the connection's socket down, which ends whatever read is
blocked on it. :func:`open_watched` opens a URL as ``urllib.request.urlopen``
does, handing each socket it connects to the watchdog before any TLS
handshake, so connecting, the handshake, the response's headers and its
body are all watched.
"""

from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["Watchdog", "open_watched"]


class Watchdog:
    """Cuts a connection along which fewer than `min_bytes` arrive in `window` seconds.

    A thread wakes every `window` seconds and checks that at least
    `min_bytes` more bytes have arrived (the reader adds them to
    :attr:`received`); if not, it records why in :attr:`reason` and shuts
    the watched socket down. Used as a context manager around one transfer.

    Parameters
    ----------
    window : float
        Seconds, > 0.
    min_bytes : float
        Bytes that must arrive in each window.

    Attributes
    ----------
    received : int
        Bytes received so far; written by the reader only.
    reason : str or None
        Why the connection was cut, once it is ("too slow: ...").
    """

    def __init__(self, window: float, min_bytes: float):
        self.window, self.min_bytes = window, min_bytes
        self.received = 0
        self.reason = None
        self._socket = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="numvae-watchdog", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None

    def watch(self, sock: socket.socket) -> None:
        """Watch the connection of `sock` from now on (a redirect brings a new one)."""
        with self._lock:
            if self._socket is not None:
                self._socket.close()
            # A duplicate, because a TLS wrapper takes sock itself over; shutting
            # the duplicate down shuts down the one connection both refer to.
            self._socket = sock.dup()
            if self.reason is not None:  # the window ran out while connecting
                self._cut()

    def _run(self):
        counted = 0
        while not self._stop.wait(self.window):
            arrived = self.received - counted
            if arrived < self.min_bytes:
                with self._lock:
                    self.reason = (f"too slow: {arrived:,} bytes in {self.window:g} s, less than "
                                   f"{self.min_bytes / self.window:,.0f} bytes/s")
                    self._cut()
                return
            counted += arrived

    def _cut(self):
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the other end


def open_watched(request: urllib.request.Request, timeout: float, watchdog: Watchdog):
    """``urllib.request.urlopen(request, timeout=timeout)``, every connection watched by `watchdog`.

    Proxies from the environment and redirects work as with ``urlopen``,
    except that a redirect to anything but http:// or https:// (urllib
    would follow one to ftp://) is an HTTPError: the watchdog could not see
    that connection, and the body of a redirect is not read.
    """
    handlers = [cls(watchdog) for cls in _WATCHED_HANDLERS] + [_HTTPRedirectsOnly()]
    return urllib.request.build_opener(*handlers).open(request, timeout=timeout)


class _Watched:
    """Mixed into urllib's HTTP and HTTPS handlers: hands each new socket to the watchdog."""

    def __init__(self, watchdog: Watchdog):
        super().__init__()
        self._watchdog = watchdog

    def do_open(self, http_class, request, **kwargs):
        watchdog = self._watchdog

        def connection(*args, **kwargs):
            conn = http_class(*args, **kwargs)
            # connect() makes its socket with this attribute, then wraps it in TLS.
            create = conn._create_connection

            def create_and_watch(*args, **kwargs):
                sock = create(*args, **kwargs)
                watchdog.watch(sock)
                return sock

            conn._create_connection = create_and_watch
            return conn

        return super().do_open(connection, request, **kwargs)


class _HTTPRedirectsOnly(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http:// and https:// URLs only, the connections the watchdog sees."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        scheme = urllib.parse.urlsplit(newurl).scheme.lower()  # newurl is absolute here
        if scheme not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, f"{msg} - redirect to {newurl} not followed: "
                                         "expected an http:// or https:// URL", headers, fp)
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        # urllib then reads the redirect's whole body into memory, unbounded and
        # unwatched (the reader counts only the final body): a server sending
        # one for ever would fill the memory. Nobody wants it: hang up instead.
        fp.close()
        return new


class _WatchedHTTPHandler(_Watched, urllib.request.HTTPHandler):
    pass


_WATCHED_HANDLERS = [_WatchedHTTPHandler]
if hasattr(urllib.request, "HTTPSHandler"):  # absent from a Python built without ssl

    class _WatchedHTTPSHandler(_Watched, urllib.request.HTTPSHandler):
        pass

    _WATCHED_HANDLERS.append(_WatchedHTTPSHandler)
