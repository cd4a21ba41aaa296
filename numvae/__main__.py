"""``python -m numvae`` runs the command line (see ``numvae.cli``)."""

import sys

from .cli import main

sys.exit(main())
