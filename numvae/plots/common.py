"""What every figure of :mod:`numvae.plots` shares: sizes and fonts, PNG writing, argument checks, tiling.

A figure is a :class:`matplotlib.figure.Figure` from :func:`new_axes`, rendered by the
Agg canvas in :func:`save`, never through ``pyplot`` (see :mod:`numvae.plots` for why).
Images are flat rows ``(n_images, height * width)``; :func:`tile` lays them out and
:func:`show` draws them in grey on a fixed [0, 1] scale.
"""

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from numvae.util import checks
from numvae.util.files import atomic_write

DPI = 120
TITLE_SIZE, LABEL_SIZE, TICK_SIZE = 15, 13, 11

# NaN marks gaps between tiles and empty cells; paint it white whatever the style sheet says.
_GRAY = matplotlib.colormaps["gray"].with_extremes(bad="white")

# --------------------------------------------------------------------------
# Figures and files
# --------------------------------------------------------------------------


def save(fig, path):
    """Render ``fig`` as PNG into ``path`` (atomically, see ``numvae.util.files``)."""
    return atomic_write(path, FigureCanvasAgg(fig).print_png)


def new_axes(width, height, **subplots):
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return fig, fig.subplots(**subplots)


def label(ax, title=None, xlabel=None, ylabel=None):
    if title is not None:
        ax.set_title(title, fontsize=TITLE_SIZE)
    ax.set_xlabel(xlabel or "", fontsize=LABEL_SIZE)
    ax.set_ylabel(ylabel or "", fontsize=LABEL_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)


# --------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------


def check_png_path(path):
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"path: expected a file name ending in '.png', got {str(path)!r}")
    return path


def check_images(name, images, image_shape):
    """``images`` as finite floats of shape (n_images, height * width)."""
    height, width = check_image_shape(image_shape)
    return checks.batch(name, images, height * width, float)


def check_image_shape(image_shape):
    shape = checks.positive_ints("image_shape", image_shape)
    if len(shape) != 2:
        raise ValueError(f"image_shape: expected (height, width), got {image_shape!r}")
    return shape


def check_vector(name, values, finite=True):
    """``values`` as a non-empty 1-D float array, of finite numbers if ``finite``."""
    try:
        vector = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected numbers, got {values!r}") from None
    if vector.ndim != 1 or vector.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D array, got shape {vector.shape}")
    if finite and not np.all(np.isfinite(vector)):
        bad = int(np.flatnonzero(~np.isfinite(vector))[0])
        raise ValueError(f"{name}: expected finite values, got {vector[bad]} at index {bad}")
    return vector


# --------------------------------------------------------------------------
# Tiles of images
# --------------------------------------------------------------------------


def tile(images, image_shape, ncols, gap):
    """Lay images row by row into one 2-D array, ``gap`` NaN pixels apart."""
    height, width = image_shape
    nrows = -(-len(images) // ncols)  # ceil
    canvas = np.full((nrows * (height + gap) - gap, ncols * (width + gap) - gap), np.nan)
    for k, image in enumerate(images.reshape(-1, height, width)):
        top, left = (height + gap) * (k // ncols), (width + gap) * (k % ncols)
        canvas[top:top + height, left:left + width] = image
    return canvas


def show(ax, canvas):
    """Draw ``canvas`` in grey, black at 0 and white at 1 (values beyond shown clipped), no axes."""
    ax.imshow(canvas, cmap=_GRAY, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[:].set_visible(False)  # a frame would also enclose the empty cells
