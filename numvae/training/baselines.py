"""The classifiers a semi-supervised model must beat, trained on the same labelled images.

Each function takes the labelled images (and, for PCA, the unlabelled ones),
the test images, and returns predicted test labels. All are small and
deterministic given their seed:

* :func:`logistic_regression` — softmax regression on the raw pixels, L2 penalty;
* :func:`nearest_neighbour` — 1-NN in any feature space (PCA-20, M1's codes);
* :func:`pca` — the first principal components, fitted on unlabelled images;
* :func:`mlp_on_labels` — an MLP 784-256-10 trained on the labelled images alone.

The cross-entropy and its gradient are :mod:`numvae.categorical`'s; the MLP is
:class:`numvae.layers.MLP`; the optimizer :class:`numvae.optim.Adam`.
"""

import numpy as np

from .. import categorical
from ..layers import MLP
from ..optim import Adam


def logistic_regression(x_labelled, y_labelled, x_test, penalty=1e-2, steps=200, lr=0.05, n_classes=10):
    r"""Fit :math:`p(y|x) = \mathrm{softmax}(xW + b)` by full-batch Adam on mean cross-entropy + λ/2 ‖W‖²; predict.

    Starts from W = 0: the loss is convex, and ``steps`` steps of Adam bring it
    near (not exactly to) its minimum. ``penalty`` is λ, fixed, not tuned.
    """
    params = {"W": np.zeros((x_labelled.shape[1], n_classes)), "b": np.zeros(n_classes)}
    optimizer = Adam(params, lr=lr)
    targets = categorical.one_hot(y_labelled, n_classes)  # (n, n_classes)
    for _ in range(steps):
        logits = x_labelled @ params["W"] + params["b"]  # (n, n_classes)
        d_logits = categorical.cross_entropy_backward(1 / len(x_labelled), logits, targets)
        optimizer.step({"W": x_labelled.T @ d_logits + penalty * params["W"], "b": d_logits.sum(axis=0)})
    return np.argmax(x_test @ params["W"] + params["b"], axis=1)


def nearest_neighbour(x_labelled, y_labelled, x_test):
    """The label of the closest labelled row (Euclidean) for every test row."""
    squared_distances = (np.sum(x_test**2, axis=1)[:, None] - 2 * x_test @ x_labelled.T
                         + np.sum(x_labelled**2, axis=1)[None, :])  # (n_test, n_labelled)
    return y_labelled[np.argmin(squared_distances, axis=1)]


def pca(x_unlabelled, n_components=20):
    """A function mapping images to their first ``n_components`` principal components (centred, as fitted)."""
    mean = x_unlabelled.mean(axis=0)  # (input_dim,)
    _, _, v_transposed = np.linalg.svd(x_unlabelled - mean, full_matrices=False)
    components = v_transposed[:n_components].T  # (input_dim, n_components)
    return lambda x: (x - mean) @ components


def mlp_on_labels(x_labelled, y_labelled, x_test, hidden=256, steps=300, lr=1e-3, seed=0, n_classes=10):
    """An MLP input-``hidden``-10 (ReLU) trained by full-batch Adam on the labelled images alone; predict."""
    net = MLP((x_labelled.shape[1], hidden, n_classes), "relu", np.random.default_rng(seed))
    optimizer = Adam(net.parameters("mlp"), lr=lr)
    targets = categorical.one_hot(y_labelled, n_classes)
    for _ in range(steps):
        logits = net.forward(x_labelled)
        net.backward(categorical.cross_entropy_backward(1 / len(x_labelled), logits, targets), need_d_x=False)
        optimizer.step(net.gradients("mlp"))
    return np.argmax(net.forward(x_test, keep_cache=False), axis=1)
