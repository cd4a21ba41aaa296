"""Plumbing shared by the numbered lectures: fast mode and where figures go.

Nothing here is lecture content. Each lecture's setup cell imports what it
needs, e.g. ``from lecture import FAST, FIGURES_DIR, save, show``, and every
step it teaches (data, model, training loop, math) stays in the lecture, to
be read top to bottom.

* ``FAST`` is True when ``NUMVAE_FAST=1``: few epochs and small data, so that
  ``tests/test_tutorials.py`` runs every lecture in seconds.
* ``FIGURES_DIR`` is ``$NUMVAE_FIGURES_DIR`` if set, else ``figures/`` next to
  the ``tutorials/`` folder. It is found from this file's own location, so it
  does not depend on the working directory.
* ``save(fig, name)`` writes a figure there; ``show(path)`` reports a figure
  already written (by ``numvae.plots``) and displays it inline in a notebook.

A lecture finds this module in both of the ways it is meant to run: Python
puts a script's own folder on ``sys.path`` (``python tutorials/01_...py``
from any directory), and a notebook kernel started in ``tutorials/`` puts
its working directory there. Its name does not match ``NN_*.py``, so the
test suite does not run it as a lecture.
"""

import os
import sys
from pathlib import Path

FAST = os.environ.get("NUMVAE_FAST") == "1"
FIGURES_DIR = Path(os.environ.get("NUMVAE_FIGURES_DIR", Path(__file__).resolve().parent.parent / "figures"))
FIGURES_DIR.mkdir(parents=True, exist_ok=True)


def show(path):
    """Report a figure written to disk; display it inline when run as a notebook."""
    print(f"wrote {path}")
    if "ipykernel" in sys.modules:
        from IPython.display import Image, display

        display(Image(filename=str(path)))


def save(fig, name):
    """Write the matplotlib ``fig`` to FIGURES_DIR/name, then :func:`show` it."""
    path = FIGURES_DIR / name
    fig.savefig(path, dpi=120)
    show(path)
