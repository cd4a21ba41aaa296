"""How grey pixels become bits: the targets of a Bernoulli decoder.

A Bernoulli decoder models each pixel as a coin, so its targets are, strictly,
0 or 1. :func:`binarize` offers three ways to get them from grey levels in
[0, 1]: leave them grey (the Bernoulli log-likelihood still accepts them),
threshold them once, or draw fresh bits every time an image is used. Dynamic
binarization follows Salakhutdinov & Murray, "On the quantitative analysis of
deep belief networks", ICML 2008.
"""

from __future__ import annotations

import numpy as np

from numvae.util import checks

__all__ = ["BINARIZE_METHODS", "binarize"]

BINARIZE_METHODS = ("none", "threshold", "dynamic")


def binarize(x: np.ndarray, method: str, *, rng: np.random.Generator | None = None) -> np.ndarray:
    """Turn grey levels in [0, 1] into targets for a Bernoulli decoder.

    Parameters
    ----------
    x : np.ndarray, shape (batch_size, 784) or any shape
        Grey levels in [0, 1].
    method : {"none", "threshold", "dynamic"}
        ``"none"`` returns `x` itself (the Bernoulli likelihood still accepts
        grey targets). ``"threshold"`` returns ``x > 0.5``: fixed
        bits, so the model can overfit to them. ``"dynamic"`` draws
        ``b ~ Bernoulli(x)`` anew on every call, so ``E[b] = x`` and the
        model sees many binary versions of each image.
    rng : np.random.Generator, optional
        Required for ``"dynamic"``.

    Returns
    -------
    np.ndarray, same shape and dtype as `x`
    """
    if method not in BINARIZE_METHODS:
        checks.choice("method", method, BINARIZE_METHODS)
    if method == "none":
        return x
    x = np.asarray(x)
    if method == "threshold":
        return (x > 0.5).astype(x.dtype)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng: expected a np.random.Generator for method 'dynamic', got {rng!r}")
    # P(u < x) = x for u ~ Uniform[0, 1).
    return (rng.random(x.shape) < x).astype(x.dtype)
