"""The latent space of a VAE with latent_dim = 2: the encoder's means by class, and the decoder's manifold.

The manifold plot follows Kingma & Welling (2013), "Auto-Encoding Variational Bayes",
fig. 4: decode latent points at quantiles of the N(0, I) prior, so that each cell of the
grid covers the same prior mass.
"""

import statistics

import matplotlib
import numpy as np

from numvae.util import checks
from numvae.plots import common
from numvae.plots.common import LABEL_SIZE, TICK_SIZE

# The prior's tails hold little mass, so the decoder has hardly been trained there.
MANIFOLD_PROBS = (0.05, 0.95)
"""First and last prior probability of the manifold grid, ±1.64 standard deviations."""


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
    path = common.check_png_path(path)
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
    fig, ax = common.new_axes(8.0, 6.8)
    for label, color in zip(classes, colors):
        points = mu[labels == label]  # (n_in_class, 2)
        ax.scatter(points[:, 0], points[:, 1], s=5, alpha=0.6, color=color, linewidths=0,
                   label=str(label) if class_names is None else class_names[label])
    ax.set_aspect("equal", adjustable="datalim")  # distances in z-space should look like distances
    common.label(ax, r"Encoder means $\mu(x)$ by class", "$z_1$", "$z_2$")
    ax.legend(title="label" if class_names is None else "class", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False,
              fontsize=TICK_SIZE, title_fontsize=LABEL_SIZE, markerscale=3)
    return common.save(fig, path)


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


def _tick_label(value):
    # Adding 0.0 turns the -0.0 that rounding a tiny negative median gives into 0.0.
    return f"{np.round(value, 2) + 0.0:.2f}".replace("-", "\N{MINUS SIGN}")


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
    path = common.check_png_path(path)
    if not callable(decode):
        raise ValueError(f"decode: expected a callable z -> images, got {type(decode).__name__}")
    height, width = common.check_image_shape(image_shape)
    z = manifold_grid(n)  # (n * n, 2)
    try:
        images = decode(z)
    except ValueError as exc:  # most often a model whose latent space is not 2-D
        raise ValueError(f"decode: expected a decoder of 2-D codes (latent_dim = 2); on z of shape "
                         f"{z.shape} it raised {type(exc).__name__}: {exc}") from exc
    if np.shape(images) != (n * n, height * width):
        raise ValueError(f"decode: expected it to return shape {(n * n, height * width)} for z "
                         f"of shape {z.shape}, got {np.shape(images)}")
    images = common.check_images("decode(z)", images, image_shape)

    fig, ax = common.new_axes(8.0, 8.0 * height / width + 0.4)
    common.show(ax, common.tile(images, (height, width), n, gap=0))
    ticks = np.unique(np.linspace(0, n - 1, 5).round().astype(int))  # five labels stay legible
    ax.set_xticks(ticks * width + (width - 1) / 2, [_tick_label(v) for v in z[ticks, 0]])
    ax.set_yticks(ticks * height + (height - 1) / 2, [_tick_label(v) for v in z[ticks * n, 1]])
    common.label(ax, r"Decoder means on a grid of prior quantiles $z = \Phi^{-1}(p)$", "$z_1$", "$z_2$")
    return common.save(fig, path)
