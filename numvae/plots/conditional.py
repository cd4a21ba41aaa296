"""Figures of a conditional model: images in rows, one row per class.

* :func:`plot_class_grid` — the class × style grid: row k decodes the shared
  draws z_1 … z_n as class k, so a row shows one class in n styles and a
  column one style in every class;
* :func:`plot_class_interpolation` — a walk in z within each class: row k
  decodes, as class k, the straight line between two codes (and may show the
  two images they are the codes of at its ends).

Images are flat rows of pixel means, drawn on a fixed [0, 1] grey scale.
"""

import numpy as np

from numvae.plots import common
from numvae.plots.common import LABEL_SIZE, TICK_SIZE, TITLE_SIZE


def _rows(images, path, row_names, title, column_names, image_shape, xlabel=None):
    """Draw ``images`` (n_rows, n_columns, height * width) as a grid with each row named on the left."""
    path = common.check_png_path(path)
    height, width = common.check_image_shape(image_shape)
    images = np.asarray(images, dtype=float)
    if images.ndim != 3 or 0 in images.shape[:2]:
        raise ValueError(f"images: expected an array of shape (n_rows, n_columns, {height * width}), "
                         f"got shape {images.shape}")
    n_rows, n_columns = images.shape[:2]
    flat = common.check_images("images", images.reshape(n_rows * n_columns, -1), (height, width))
    row_names = [str(name) for name in row_names]
    if len(row_names) != n_rows:
        raise ValueError(f"row_names: expected {n_rows} names, one per row, got {len(row_names)}")
    gap = 2
    canvas = common.tile(flat, (height, width), n_columns, gap)
    scale = min(0.7 / width, 12.0 / canvas.shape[1], 12.0 / canvas.shape[0])
    fig, ax = common.new_axes(max(4.0, scale * canvas.shape[1]) + 1.2, scale * canvas.shape[0] + 0.9)
    common.show(ax, canvas)
    ax.set_yticks([k * (height + gap) + (height - 1) / 2 for k in range(n_rows)], row_names)
    if column_names is not None:
        column_names = [str(name) for name in column_names]
        if len(column_names) != n_columns:
            raise ValueError(f"column_names: expected {n_columns} names, one per column, got {len(column_names)}")
        ax.set_xticks([j * (width + gap) + (width - 1) / 2 for j in range(n_columns)], column_names)
        ax.set_xlabel(xlabel or "", fontsize=LABEL_SIZE)
    ax.tick_params(length=0, labelsize=TICK_SIZE)
    ax.set_title(title, fontsize=TITLE_SIZE)
    return common.save(fig, path)


def plot_class_grid(images, path, class_names=None, title=None, image_shape=(28, 28)):
    """The class × style grid: ``images[k, j]`` is z_j decoded as class k.

    Parameters
    ----------
    images : array_like, shape (n_classes, n_styles, height * width)
        Pixel means, shown on [0, 1], e.g. ``CVAE.decode_every_class(z)``.
    path : str or os.PathLike, a file name ending in ``.png``
    class_names : sequence of str, optional
        A name per row (default 0, 1, ...).
    title : str, optional
    image_shape : (height, width) of one image

    Returns
    -------
    pathlib.Path
    """
    n_classes, n_styles = np.shape(images)[:2]
    names = range(n_classes) if class_names is None else class_names
    title = title or f"Each row a class, each column one draw of z ({n_styles} shared draws)"
    return _rows(images, path, names, title, None, image_shape)


def plot_class_interpolation(images, path, class_names=None, ends=None, title=None, image_shape=(28, 28)):
    """Interpolation within each class: ``images[k, i]`` decodes, as class k, step i of a line in z.

    Parameters
    ----------
    images : array_like, shape (n_classes, n_steps, height * width)
        Pixel means, shown on [0, 1]; the first and last columns decode the line's ends.
    path : str or os.PathLike, a file name ending in ``.png``
    class_names : sequence of str, optional
        A name per row (default 0, 1, ...).
    ends : array_like, shape (n_classes, 2, height * width), optional
        The images whose codes are the line's ends, shown left and right of the row.
    title : str, optional
    image_shape : (height, width) of one image

    Returns
    -------
    pathlib.Path
    """
    images = np.asarray(images, dtype=float)
    n_rows, n_steps = images.shape[:2]
    names = range(n_rows) if class_names is None else class_names
    columns = [f"{t:.2g}" for t in np.linspace(0, 1, n_steps)]
    if ends is not None:
        ends = np.asarray(ends, dtype=float)
        if ends.shape != (n_rows, 2, images.shape[2]):
            raise ValueError(f"ends: expected shape {(n_rows, 2, images.shape[2])}, got {ends.shape}")
        images = np.concatenate([ends[:, :1], images, ends[:, 1:]], axis=1)
        columns = ["a", *columns, "b"]
    title = title or "Within each class, from the code of image a to that of image b"
    return _rows(images, path, names, title, columns, image_shape, xlabel="t: z = (1 − t) z_a + t z_b")
