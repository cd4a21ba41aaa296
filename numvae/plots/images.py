"""Images side by side: originals above their reconstructions, and grids such as samples from the prior.

Images are flat rows ``(n_images, height * width)`` of pixel means, tiled by
:func:`numvae.plots.common.tile` and drawn on a fixed [0, 1] grey scale, so that
figures compare.
"""

import numpy as np

from numvae.util import checks
from numvae.plots import common
from numvae.plots.common import LABEL_SIZE, TICK_SIZE, TITLE_SIZE


def _image_figsize(canvas, image_width, extra_width=0.0, extra_height=0.6):
    """Figure size in inches: about 0.8 inch per image, at most 12 inches either way."""
    per_pixel = min(0.8 / image_width, 12.0 / canvas.shape[1], 12.0 / canvas.shape[0])
    return (max(4.0, per_pixel * canvas.shape[1]) + extra_width,
            per_pixel * canvas.shape[0] + extra_height)


def plot_reconstructions(originals, reconstructions, path, n=10, image_shape=(28, 28), title=None, captions=None):
    """Show the first ``n`` originals in the top row and their reconstructions below.

    Parameters
    ----------
    originals, reconstructions : array_like, shape (n_images, height * width)
        Pixel means, shown on [0, 1]; row ``i`` of ``reconstructions`` decodes row ``i`` of
        ``originals``.
    path : str or os.PathLike, a file name ending in ``.png``
    n : int
        How many pairs to show (all ``n_images`` if there are fewer).
    image_shape : (height, width) of one image
    title : str, optional
        Defaults to "First n images and their reconstructions".
    captions : sequence of str, optional
        A name above each original (its class, e.g. "Sneaker"); one per shown pair.

    Returns
    -------
    pathlib.Path
    """
    path = common.check_png_path(path)
    height, width = common.check_image_shape(image_shape)
    originals = common.check_images("originals", originals, image_shape)
    reconstructions = common.check_images("reconstructions", reconstructions, image_shape)
    if reconstructions.shape != originals.shape:
        raise ValueError(f"reconstructions: expected the shape of originals {originals.shape}, "
                         f"got {reconstructions.shape}")
    n = min(checks.positive_int("n", n), len(originals))

    gap = 2
    canvas = common.tile(np.concatenate([originals[:n], reconstructions[:n]]), (height, width), n, gap)
    fig, ax = common.new_axes(*_image_figsize(canvas, width, extra_width=1.8))  # room for row names
    common.show(ax, canvas)
    # The row names sit where y tick labels go, without the tick marks.
    ax.set_yticks([(height - 1) / 2, height + gap + (height - 1) / 2],
                  ["original", "reconstruction"])
    ax.tick_params(length=0, labelsize=LABEL_SIZE)
    if captions is not None:
        captions = [str(c) for c in captions][:n]
        if len(captions) != n:
            raise ValueError(f"captions: expected {n} names, one per image shown, got {len(captions)}")
        ax.set_xticks([i * (width + gap) + (width - 1) / 2 for i in range(n)], captions,
                      rotation=30, ha="left", rotation_mode="anchor")
        ax.tick_params(axis="x", top=True, labeltop=True, bottom=False, labelbottom=False,
                       labelsize=TICK_SIZE)
    ax.set_title(title or f"First {n} images and their reconstructions", fontsize=TITLE_SIZE)
    return common.save(fig, path)


def plot_image_grid(images, path, title=None, ncols=None, image_shape=(28, 28)):
    """Tile images into one grid, e.g. 64 samples from the prior as 8 x 8.

    Parameters
    ----------
    images : array_like, shape (n_images, height * width)
        Pixel means, shown on [0, 1].
    path : str or os.PathLike, a file name ending in ``.png``
    title : str, optional
    ncols : int, optional
        Images per row; by default ``ceil(sqrt(n_images))``, a square grid.
    image_shape : (height, width) of one image

    Returns
    -------
    pathlib.Path
    """
    path = common.check_png_path(path)
    image_shape = common.check_image_shape(image_shape)
    images = common.check_images("images", images, image_shape)
    if ncols is None:
        ncols = int(np.ceil(np.sqrt(len(images))))
    ncols = min(checks.positive_int("ncols", ncols), len(images))
    canvas = common.tile(images, image_shape, ncols, gap=1)

    fig, ax = common.new_axes(*_image_figsize(canvas, image_shape[1]))
    common.show(ax, canvas)
    if title is not None:
        ax.set_title(title, fontsize=TITLE_SIZE)
    return common.save(fig, path)
