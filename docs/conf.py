"""Sphinx configuration of the course site; ``docs/build.py`` is the command that uses it.

The build script executes the lectures and writes the pages into a staging
folder, then runs ``sphinx-build -c docs STAGING OUTDIR``: this file is the
configuration, the staging folder the source. MyST-NB renders the executed
notebooks (nothing is executed here), autodoc and numpydoc the API
reference, and MathJax 3 is served from the site itself (the copy in the
``sphinx-mathjax-offline`` package), so no page needs the network.
"""

project = "numvae"
author = "the numvae authors"
copyright = "numvae authors, MIT licence"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx-mathjax-offline",  # copies MathJax 3 into _static/mathjax/ at the end of the build
]

# The lectures were executed by build.py; a page shows exactly those outputs.
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

mathjax_path = "mathjax/tex-chtml.js"

autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc Parameters sections say the types and shapes
autodoc_preserve_defaults = True  # signatures show defaults as written (np.float64), not their repr (<class ...>)
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

exclude_patterns = ["_run", "_build", ".doctrees"]
html_theme = "furo"
html_title = "numvae: a VAE by hand"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_js_files = ["file-url.js"]  # search from file://: no snippets, which the browser would refuse to fetch
html_favicon = "_static/favicon.svg"
html_show_sourcelink = False
html_copy_source = False

# textmacros: \_ and other text-mode macros inside \text{...} (e.g. \text{log\_var}), as in LaTeX.
mathjax3_config = {
    "loader": {"load": ["[tex]/textmacros"]},
    "tex": {"packages": {"[+]": ["textmacros"]}},
}

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from docstrings import escape_bars  # noqa: E402


def setup(app):
    app.connect("autodoc-process-docstring", escape_bars)
