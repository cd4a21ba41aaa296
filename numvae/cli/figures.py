"""The figures a training run writes next to its checkpoint."""

from pathlib import Path

import numpy as np


def write_figures(model, history, dataset, out_dir, seed=0):
    """Write the loss curves, reconstructions, prior samples and, for a 2-D latent
    space, the latent scatter and the manifold; returns the paths written."""
    from .. import plots
    from ..data.datasets import CLASS_NAMES

    names = CLASS_NAMES.get(dataset.name)
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    written = [plots.plot_loss_curves(history, out_dir / "loss_curves.png")]
    x = dataset.x_test[:10]
    captions = None if names is None else [names[label] for label in dataset.y_test[:10]]
    written.append(
        plots.plot_reconstructions(x, model.reconstruct(x), out_dir / "reconstructions.png", captions=captions)
    )
    written.append(
        plots.plot_image_grid(model.sample(64, rng=rng), out_dir / "prior_samples.png", title="Samples from the prior")
    )
    if model.latent_dim == 2:
        mu, _ = model.encode(dataset.x_test)
        written.append(
            plots.plot_latent_scatter(mu, dataset.y_test, out_dir / "latent_scatter.png", class_names=names)
        )
        written.append(plots.plot_manifold(model.decode, out_dir / "manifold.png"))
    return written
