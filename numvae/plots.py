"""Figures for a trained VAE: loss curves, images, the latent space, anomaly scores.

Figures are built as :class:`matplotlib.figure.Figure` objects and rendered by the Agg
canvas, never through ``pyplot``: no GUI backend is needed and no global state (the
current figure, the backend, rcParams) is touched, so a notebook's setup is left alone.

Every function writes one PNG atomically (a temporary file in the same directory, then
:func:`os.replace`), so a crash or a bad argument never leaves a half-written or clobbered
figure, and returns the :class:`pathlib.Path` it wrote. Images are flat rows
``(n_images, height * width)`` of pixel means, drawn in grey on a fixed [0, 1] scale so
that figures compare: black is 0, white is 1, and values beyond (a Gaussian decoder's
mean may stray there) are shown clipped.

The manifold plot follows Kingma & Welling (2013), "Auto-Encoding Variational Bayes",
fig. 4: decode latent points at quantiles of the N(0, I) prior, so that each cell of the
grid covers the same prior mass.
"""

import statistics
from collections.abc import Mapping
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from numvae import checks
from numvae.files import atomic_write

DPI = 120
TITLE_SIZE, LABEL_SIZE, TICK_SIZE = 15, 13, 11

HISTORY_KEYS = ("epoch", "train_loss", "test_loss", "train_reconstruction",
                "test_reconstruction", "train_kl", "test_kl")
"""Keys :func:`plot_loss_curves` reads: one value per epoch, in nats per example."""

# NaN marks gaps between tiles and empty cells; paint it white whatever the style sheet says.
_GRAY = matplotlib.colormaps["gray"].with_extremes(bad="white")

# The prior's tails hold little mass, so the decoder has hardly been trained there.
MANIFOLD_PROBS = (0.05, 0.95)
"""First and last prior probability of the manifold grid, ±1.64 standard deviations."""

# --------------------------------------------------------------------------
# Helpers: file writing, argument checks, tiling
# --------------------------------------------------------------------------


def _png_path(path):
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"path: expected a file name ending in '.png', got {str(path)!r}")
    return path


def _save(fig, path):
    """Render ``fig`` as PNG into ``path`` (atomically, see ``numvae.files``)."""
    return atomic_write(path, FigureCanvasAgg(fig).print_png)


def _new_axes(width, height, **subplots):
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return fig, fig.subplots(**subplots)


def _label(ax, title=None, xlabel=None, ylabel=None):
    if title is not None:
        ax.set_title(title, fontsize=TITLE_SIZE)
    ax.set_xlabel(xlabel or "", fontsize=LABEL_SIZE)
    ax.set_ylabel(ylabel or "", fontsize=LABEL_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)


def _images(name, images, image_shape):
    """``images`` as finite floats of shape (n_images, height * width)."""
    height, width = _image_shape(image_shape)
    return checks.batch(name, images, height * width, float)


def _image_shape(image_shape):
    shape = checks.positive_ints("image_shape", image_shape)
    if len(shape) != 2:
        raise ValueError(f"image_shape: expected (height, width), got {image_shape!r}")
    return shape


def _vector(name, values, finite=True):
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


def _tile(images, image_shape, ncols, gap):
    """Lay images row by row into one 2-D array, ``gap`` NaN pixels apart."""
    height, width = image_shape
    nrows = -(-len(images) // ncols)  # ceil
    canvas = np.full((nrows * (height + gap) - gap, ncols * (width + gap) - gap), np.nan)
    for k, image in enumerate(images.reshape(-1, height, width)):
        top, left = (height + gap) * (k // ncols), (width + gap) * (k % ncols)
        canvas[top:top + height, left:left + width] = image
    return canvas


def _image_figsize(canvas, image_width, extra_width=0.0, extra_height=0.6):
    """Figure size in inches: about 0.8 inch per image, at most 12 inches either way."""
    per_pixel = min(0.8 / image_width, 12.0 / canvas.shape[1], 12.0 / canvas.shape[0])
    return (max(4.0, per_pixel * canvas.shape[1]) + extra_width,
            per_pixel * canvas.shape[0] + extra_height)


def _show(ax, canvas):
    ax.imshow(canvas, cmap=_GRAY, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[:].set_visible(False)  # a frame would also enclose the empty cells


def _tick_label(value):
    # Adding 0.0 turns the -0.0 that rounding a tiny negative median gives into 0.0.
    return f"{np.round(value, 2) + 0.0:.2f}".replace("-", "\N{MINUS SIGN}")


# --------------------------------------------------------------------------
# Training curves
# --------------------------------------------------------------------------


def plot_loss_curves(history, path):
    r"""Plot −ELBO, reconstruction and KL against epoch, train and test, in three panels.

    :math:`-\mathrm{ELBO} = \mathbb{E}_q[-\log p(x \mid z)] + \mathrm{KL}(q(z \mid x)\,\|\,p(z))`,
    so the first panel is the sum of the other two.

    Parameters
    ----------
    history : mapping of str to sequence of float
        Equal-length 1-D sequences under the keys :data:`HISTORY_KEYS` (others are ignored).
        Non-finite values, e.g. NaN in epochs where the test set was not evaluated, are skipped.
    path : str or os.PathLike, a file name ending in ``.png``

    Returns
    -------
    pathlib.Path
    """
    path = _png_path(path)
    if not isinstance(history, Mapping):
        raise ValueError(f"history: expected a dict of lists, got {type(history).__name__}")
    missing = [key for key in HISTORY_KEYS if key not in history]
    if missing:
        raise ValueError(f"history: expected keys {list(HISTORY_KEYS)}, missing {missing}")
    epoch = _vector("history['epoch']", history["epoch"])
    series = {key: _vector(f"history[{key!r}]", history[key], finite=False)
              for key in HISTORY_KEYS}
    for key, values in series.items():
        if len(values) != len(epoch):
            raise ValueError(f"history[{key!r}]: expected {len(epoch)} values, one per epoch, "
                             f"got {len(values)}")

    fig, axes = _new_axes(15, 4.6, ncols=3, sharex=True)
    panels = {"loss": r"Loss ($-$ELBO)",
              "reconstruction": r"Reconstruction $-\log p(x \mid z)$",
              "kl": r"KL$(q(z \mid x)\,\|\,p(z))$"}
    styles = {"train": dict(color="C0"), "test": dict(color="C1", linestyle="--", marker="o")}
    for ax, (part, title) in zip(axes, panels.items()):
        for split, style in styles.items():
            values = series[f"{split}_{part}"]
            finite = np.isfinite(values)
            if np.count_nonzero(finite) == 1:  # a line through one point draws nothing
                style = {"marker": "o", **style}
            if finite.any():
                ax.plot(epoch[finite], values[finite], label=split, lw=2, ms=4, **style)
        _label(ax, title, "epoch", "nats per example")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10], min_n_ticks=1))  # whole epochs, no 0.96
        ax.grid(alpha=0.3)
        if ax.has_data():
            ax.legend(fontsize=TICK_SIZE)
    return _save(fig, path)


# --------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------


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
    path = _png_path(path)
    height, width = _image_shape(image_shape)
    originals = _images("originals", originals, image_shape)
    reconstructions = _images("reconstructions", reconstructions, image_shape)
    if reconstructions.shape != originals.shape:
        raise ValueError(f"reconstructions: expected the shape of originals {originals.shape}, "
                         f"got {reconstructions.shape}")
    n = min(checks.positive_int("n", n), len(originals))

    gap = 2
    canvas = _tile(np.concatenate([originals[:n], reconstructions[:n]]), (height, width), n, gap)
    fig, ax = _new_axes(*_image_figsize(canvas, width, extra_width=1.8))  # room for row names
    _show(ax, canvas)
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
    return _save(fig, path)


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
    path = _png_path(path)
    image_shape = _image_shape(image_shape)
    images = _images("images", images, image_shape)
    if ncols is None:
        ncols = int(np.ceil(np.sqrt(len(images))))
    ncols = min(checks.positive_int("ncols", ncols), len(images))
    canvas = _tile(images, image_shape, ncols, gap=1)

    fig, ax = _new_axes(*_image_figsize(canvas, image_shape[1]))
    _show(ax, canvas)
    if title is not None:
        ax.set_title(title, fontsize=TITLE_SIZE)
    return _save(fig, path)


# --------------------------------------------------------------------------
# The latent space, for latent_dim = 2
# --------------------------------------------------------------------------


def plot_latent_scatter(mu, labels, path, class_names=None):
    """Scatter the encoder means of a 2-D latent space, one colour per class.

    Parameters
    ----------
    mu : array_like, shape (n_examples, 2)
        Means of q(z | x), usually over the test set.
    labels : array_like of int, shape (n_examples,)
        Class of each example; at most 20 classes (tab10 colours, or tab20 beyond 10).
    path : str or os.PathLike, a file name ending in ``.png``
    class_names : sequence of str, optional
        ``class_names[label]`` names a class in the legend (e.g. "Ankle boot"); default: the label.

    Returns
    -------
    pathlib.Path
    """
    path = _png_path(path)
    if np.ndim(mu) != 2 or np.shape(mu)[1] != 2:
        raise ValueError(f"mu: the scatter needs a 2-D latent space (latent_dim = 2), i.e. shape "
                         f"(n_examples, 2); got shape {np.shape(mu)}")
    mu = checks.batch("mu", mu, 2, float)
    labels = np.asarray(labels)
    if labels.shape != (len(mu),):
        raise ValueError(f"labels: expected shape ({len(mu)},) to match mu, got {labels.shape}")
    if np.issubdtype(labels.dtype, np.floating):
        # Whole numbers only; NaN, inf and values beyond int64 do not survive the round trip.
        with np.errstate(invalid="ignore"):
            whole = labels.astype(np.int64)
        if not np.array_equal(whole, labels):
            bad = labels[whole != labels][0]
            raise ValueError(f"labels: expected integer class labels, got {bad} ({labels.dtype})")
        labels = whole
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels: expected integer class labels, got {labels.dtype} values")
    classes = np.unique(labels).astype(int)
    if len(classes) > 20:
        raise ValueError(f"labels: expected at most 20 classes for a qualitative colormap, "
                         f"got {len(classes)}")
    if class_names is not None and (classes.min() < 0 or classes.max() >= len(class_names)):
        raise ValueError(f"class_names: expected a name for every label 0..{classes.max()}, "
                         f"got {len(class_names)} names")

    colors = matplotlib.colormaps["tab10" if len(classes) <= 10 else "tab20"].colors
    fig, ax = _new_axes(8.0, 6.8)
    for label, color in zip(classes, colors):
        points = mu[labels == label]  # (n_in_class, 2)
        ax.scatter(points[:, 0], points[:, 1], s=5, alpha=0.6, color=color, linewidths=0,
                   label=str(label) if class_names is None else class_names[label])
    ax.set_aspect("equal", adjustable="datalim")  # distances in z-space should look like distances
    _label(ax, r"Encoder means $\mu(x)$ by class", "$z_1$", "$z_2$")
    ax.legend(title="label" if class_names is None else "class", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False,
              fontsize=TICK_SIZE, title_fontsize=LABEL_SIZE, markerscale=3)
    return _save(fig, path)


def manifold_grid(n):
    r"""The (n * n, 2) latent points that :func:`plot_manifold` decodes, in tile order.

    Each coordinate takes the values :math:`\Phi^{-1}(p_i)` for ``p = linspace(*MANIFOLD_PROBS,
    n)``. Row ``k`` is tile ``(k // n, k % n)``: z_1 grows along a row of tiles (fastest) and
    z_2 falls from the top row to the bottom one, as on the axes of a plot.
    """
    n = checks.positive_int("n", n)
    if n < 2:
        raise ValueError(f"n: expected at least 2 grid points per axis, got {n}")
    z = np.array([statistics.NormalDist().inv_cdf(p) for p in np.linspace(*MANIFOLD_PROBS, n)])
    z1, z2 = np.meshgrid(z, z[::-1])  # each (n, n); row 0 is the top row of tiles
    return np.column_stack([z1.ravel(), z2.ravel()])  # (n * n, 2)


def plot_manifold(decode, path, n=20, image_shape=(28, 28)):
    """Decode an n x n grid of latent points at prior quantiles and tile the images.

    Parameters
    ----------
    decode : callable
        Maps z of shape (m, 2) to pixel means of shape (m, height * width), shown on [0, 1]. It is
        called once, with ``manifold_grid(n)``.
    path : str or os.PathLike, a file name ending in ``.png``
    n : int
        Grid points per axis, at least 2.
    image_shape : (height, width) of one image

    Returns
    -------
    pathlib.Path
    """
    path = _png_path(path)
    if not callable(decode):
        raise ValueError(f"decode: expected a callable z -> images, got {type(decode).__name__}")
    height, width = _image_shape(image_shape)
    z = manifold_grid(n)  # (n * n, 2)
    try:
        images = decode(z)
    except ValueError as exc:  # most often a model whose latent space is not 2-D
        raise ValueError(f"decode: expected a decoder of 2-D codes (latent_dim = 2); on z of shape "
                         f"{z.shape} it raised {type(exc).__name__}: {exc}") from exc
    if np.shape(images) != (n * n, height * width):
        raise ValueError(f"decode: expected it to return shape {(n * n, height * width)} for z "
                         f"of shape {z.shape}, got {np.shape(images)}")
    images = _images("decode(z)", images, image_shape)

    fig, ax = _new_axes(8.0, 8.0 * height / width + 0.4)
    _show(ax, _tile(images, (height, width), n, gap=0))
    ticks = np.unique(np.linspace(0, n - 1, 5).round().astype(int))  # five labels stay legible
    ax.set_xticks(ticks * width + (width - 1) / 2, [_tick_label(v) for v in z[ticks, 0]])
    ax.set_yticks(ticks * height + (height - 1) / 2, [_tick_label(v) for v in z[ticks * n, 1]])
    _label(ax, r"Decoder means on a grid of prior quantiles $z = \Phi^{-1}(p)$", "$z_1$", "$z_2$")
    return _save(fig, path)


# --------------------------------------------------------------------------
# Anomaly scores
# --------------------------------------------------------------------------


def plot_anomaly_histogram(scores_normal, scores_anomalous, path, labels=("normal", "anomalous")):
    """Overlay histograms of per-example −ELBO for normal and anomalous data.

    Both groups share the bins and are normalised to densities, so groups of different sizes
    compare; a useful detector puts the anomalous mass to the right.

    Parameters
    ----------
    scores_normal, scores_anomalous : array_like, shape (n_examples,)
        −ELBO of each example in nats; higher means less likely under the model.
    path : str or os.PathLike, a file name ending in ``.png``
    labels : (str, str)
        Legend names of the two groups.

    Returns
    -------
    pathlib.Path
    """
    path = _png_path(path)
    groups = [_vector("scores_normal", scores_normal),
              _vector("scores_anomalous", scores_anomalous)]
    if isinstance(labels, str) or len(labels) != 2:
        raise ValueError(f"labels: expected two names (normal, anomalous), got {labels!r}")

    bins = np.histogram_bin_edges(np.concatenate(groups), bins=40)
    fig, ax = _new_axes(8.0, 5.0)
    for scores, label, color in zip(groups, labels, ["C0", "C3"]):
        ax.hist(scores, bins=bins, density=True, alpha=0.45, color=color,
                label=f"{label} (n={len(scores)})")
        ax.hist(scores, bins=bins, density=True, histtype="step", color=color, linewidth=1.5)
    _label(ax, "Anomaly scores", "\N{MINUS SIGN}ELBO (nats)", "density")
    ax.legend(fontsize=TICK_SIZE)
    return _save(fig, path)
