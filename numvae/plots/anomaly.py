"""Anomaly scores: how the −ELBO of normal and of anomalous examples is distributed.

The score of an example is its −ELBO in nats, an upper bound on −log p(x): high where
the model finds the example unlikely (lecture 10 detects anomalies with it).
"""

import numpy as np

from numvae.plots import common
from numvae.plots.common import TICK_SIZE


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
    path = common.check_png_path(path)
    groups = [common.check_vector("scores_normal", scores_normal),
              common.check_vector("scores_anomalous", scores_anomalous)]
    if isinstance(labels, str) or len(labels) != 2:
        raise ValueError(f"labels: expected two names (normal, anomalous), got {labels!r}")

    bins = np.histogram_bin_edges(np.concatenate(groups), bins=40)
    fig, ax = common.new_axes(8.0, 5.0)
    for scores, label, color in zip(groups, labels, ["C0", "C3"]):
        ax.hist(scores, bins=bins, density=True, alpha=0.45, color=color,
                label=f"{label} (n={len(scores)})")
        ax.hist(scores, bins=bins, density=True, histtype="step", color=color, linewidth=1.5)
    common.label(ax, "Anomaly scores", "\N{MINUS SIGN}ELBO (nats)", "density")
    ax.legend(fontsize=TICK_SIZE)
    return common.save(fig, path)
