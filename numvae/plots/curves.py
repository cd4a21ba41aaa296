"""The loss curves of a training run: −ELBO, reconstruction and KL against epoch, train and test.

The three terms are those :mod:`numvae.vae` minimises (Kingma & Welling 2013,
"Auto-Encoding Variational Bayes"), one value per epoch as a trainer's history
holds them (see :mod:`numvae.training.trainer`).
"""

from collections.abc import Mapping

import numpy as np
from matplotlib.ticker import MaxNLocator

from numvae.plots import common
from numvae.plots.common import TICK_SIZE

HISTORY_KEYS = ("epoch", "train_loss", "test_loss", "train_reconstruction",
                "test_reconstruction", "train_kl", "test_kl")
"""Keys :func:`plot_loss_curves` reads: one value per epoch, in nats per example."""


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
    path = common.check_png_path(path)
    if not isinstance(history, Mapping):
        raise ValueError(f"history: expected a dict of lists, got {type(history).__name__}")
    missing = [key for key in HISTORY_KEYS if key not in history]
    if missing:
        raise ValueError(f"history: expected keys {list(HISTORY_KEYS)}, missing {missing}")
    epoch = common.check_vector("history['epoch']", history["epoch"])
    series = {key: common.check_vector(f"history[{key!r}]", history[key], finite=False)
              for key in HISTORY_KEYS}
    for key, values in series.items():
        if len(values) != len(epoch):
            raise ValueError(f"history[{key!r}]: expected {len(epoch)} values, one per epoch, "
                             f"got {len(values)}")

    fig, axes = common.new_axes(15, 4.6, ncols=3, sharex=True)
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
        common.label(ax, title, "epoch", "nats per example")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10], min_n_ticks=1))  # whole epochs, no 0.96
        ax.grid(alpha=0.3)
        if ax.has_data():
            ax.legend(fontsize=TICK_SIZE)
    return common.save(fig, path)
