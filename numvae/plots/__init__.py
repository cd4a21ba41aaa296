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

One module per kind of figure; every name below is also importable from here:

* :mod:`.curves`  — :func:`plot_loss_curves`, the history of a training run
* :mod:`.images`  — :func:`plot_reconstructions`, :func:`plot_image_grid`
* :mod:`.latent`  — :func:`plot_latent_scatter`, :func:`plot_manifold` and its
  :func:`manifold_grid`, for latent_dim = 2
* :mod:`.anomaly` — :func:`plot_anomaly_histogram`
* :mod:`.conditional` — :func:`plot_class_grid`, :func:`plot_class_interpolation`,
  for a conditional VAE: one row per class
* :mod:`.common`  — what they share: sizes and fonts, PNG writing, argument checks, tiling
"""

from numvae.plots.anomaly import plot_anomaly_histogram
from numvae.plots.common import DPI, LABEL_SIZE, TICK_SIZE, TITLE_SIZE
from numvae.plots.conditional import plot_class_grid, plot_class_interpolation
from numvae.plots.curves import HISTORY_KEYS, plot_loss_curves
from numvae.plots.images import plot_image_grid, plot_reconstructions
from numvae.plots.latent import MANIFOLD_PROBS, manifold_grid, plot_latent_scatter, plot_manifold

__all__ = [
    "DPI", "TITLE_SIZE", "LABEL_SIZE", "TICK_SIZE",
    "HISTORY_KEYS", "plot_loss_curves",
    "plot_reconstructions", "plot_image_grid",
    "MANIFOLD_PROBS", "plot_latent_scatter", "manifold_grid", "plot_manifold",
    "plot_anomaly_histogram",
    "plot_class_grid", "plot_class_interpolation",
]
