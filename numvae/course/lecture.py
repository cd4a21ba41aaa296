"""Plumbing shared by the numbered lectures: fast mode and where figures go.

Nothing here is lecture content. Each lecture's setup cell imports what it
needs, e.g. ``from numvae.course.lecture import FAST, FIGURES_DIR, save, show``,
and every step it teaches (data, model, training loop, math) stays in the
lecture, to be read top to bottom. Being part of the package, it is found
wherever a lecture runs: as ``python tutorials/03_train_a_vae.py``, as a
notebook opened in ``tutorials/``, or as a notebook downloaded from the
course site into any folder, with numvae installed.

* ``FAST`` is True when ``NUMVAE_FAST=1``: few epochs and small data, so that
  ``tests/test_tutorials.py`` runs every lecture in seconds.
* ``FIGURES_DIR`` is ``$NUMVAE_FIGURES_DIR`` if set, else ``figures/`` in the
  working directory (from the repository's root: the committed ``figures/``;
  for a downloaded notebook: next to it).
* ``save(fig, name)`` writes a figure there; ``show(path)`` reports a figure
  already written (by ``numvae.plots``) and displays it inline in a notebook.
"""

import os
import sys
from pathlib import Path

FAST = os.environ.get("NUMVAE_FAST") == "1"
FIGURES_DIR = Path(os.environ.get("NUMVAE_FIGURES_DIR", "figures")).resolve()
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
