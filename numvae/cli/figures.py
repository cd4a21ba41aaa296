"""The figures a training run writes next to its checkpoint."""

from pathlib import Path

import numpy as np

N_STYLES = 10
"""Columns of a CVAE's class × style grid: shared draws of z."""
INTERPOLATION_STEPS = 8
"""Columns of a CVAE's interpolation within each class."""


def write_figures(model, history, dataset, out_dir, seed=0):
    """Write the loss curves, reconstructions, prior samples and, for a 2-D latent
    space, the latent scatter and the manifold; returns the paths written.

    A conditional VAE (``model.n_classes`` > 0) writes, instead of the prior
    samples and the manifold, the class × style grid and an interpolation
    within each class (:func:`write_class_figures`).
    """
    from .. import plots
    from ..data.datasets import CLASS_NAMES

    names = CLASS_NAMES.get(dataset.name)
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    given = () if not model.n_classes else (dataset.y_test,)  # what the model conditions on, besides x
    written = [plots.plot_loss_curves(history, out_dir / "loss_curves.png")]
    x = dataset.x_test[:10]
    captions = None if names is None else [names[label] for label in dataset.y_test[:10]]
    written.append(plots.plot_reconstructions(x, model.reconstruct(x, *(g[:10] for g in given)),
                                              out_dir / "reconstructions.png", captions=captions))
    if model.n_classes:
        written += write_class_figures(model, dataset, out_dir, rng, names)
    else:
        written.append(
            plots.plot_image_grid(model.sample(64, rng=rng), out_dir / "prior_samples.png",
                                  title="Samples from the prior")
        )
    if model.latent_dim == 2:
        mu, _ = model.encode(dataset.x_test, *given)
        written.append(
            plots.plot_latent_scatter(mu, dataset.y_test, out_dir / "latent_scatter.png", class_names=names)
        )
        if not model.n_classes:
            written.append(plots.plot_manifold(model.decode, out_dir / "manifold.png"))
    return written


def write_class_figures(model, dataset, out_dir, rng, names=None):
    """A CVAE's class × style grid (``class_grid.png``) and interpolation within each class
    (``class_interpolation.png``: for each class, the line between the posterior means of
    its first two test images, decoded with that class); returns the paths written."""
    from .. import plots

    n_classes = model.n_classes
    row_names = [names[k] if names is not None and k < len(names) else k for k in range(n_classes)]
    z = rng.standard_normal((N_STYLES, model.latent_dim))  # shared by every row
    written = [plots.plot_class_grid(model.decode_every_class(z), Path(out_dir) / "class_grid.png",
                                     class_names=row_names)]
    t = np.linspace(0, 1, INTERPOLATION_STEPS)[:, None]  # (steps, 1)
    rows, ends, kept = [], [], []
    for k in range(n_classes):
        members = np.flatnonzero(dataset.y_test == k)[:2]
        if len(members) < 2:
            continue  # a class with fewer than two test images has no line to draw
        mu, _ = model.encode(dataset.x_test[members], np.full(2, k))  # (2, latent_dim)
        path = (1 - t) * mu[0] + t * mu[1]  # (steps, latent_dim)
        rows.append(model.decode(path, np.full(INTERPOLATION_STEPS, k)))
        ends.append(dataset.x_test[members])
        kept.append(row_names[k])
    if rows:
        written.append(plots.plot_class_interpolation(np.stack(rows), Path(out_dir) / "class_interpolation.png",
                                                      class_names=kept, ends=np.stack(ends)))
    return written
