"""``python -m numvae`` runs the command line (see ``numvae.cli``)."""

import os

# The C module under ``signal``: importing ``signal`` itself loads ``enum``,
# tens of milliseconds in which Ctrl-C would still print a traceback.
import _signal


def _interrupted_while_starting(signum, frame):
    os.write(2, b"numvae: interrupted\n")
    os._exit(130)


# Ctrl-C from this line on exits 130 without a traceback, even while the
# command line itself is being imported (numvae.cli.main takes over from here).
if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
    _signal.signal(_signal.SIGINT, _interrupted_while_starting)

from .cli import main  # noqa: E402  (after the handler, on purpose)

raise SystemExit(main())
