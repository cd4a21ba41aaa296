r"""Properties of ``log_mean_exp`` and the importance-weighted bound ``iw_bound``.

``iw_bound(log_px_z, log_pz, log_qz)`` takes arrays of shape (K, batch) and
returns :math:`\mathcal L_K = \log \frac1K \sum_k w_k` per example, shape
(batch,), with :math:`\log w = \log p(x|z) + \log p(z) - \log q(z|x)` (Burda et al. 2015).
"""

import numpy as np

from . import strategies as S
from .core import Property, PropertyFailure, call, expect_close, expect_shape, first_match, same_values


def log_mean_exp_matches_the_direct_formula(impl):
    a = np.random.default_rng(0).normal(size=(7, 5))
    expected = np.log(np.mean(np.exp(a), axis=0))
    expect_close("log_mean_exp(a, axis=0)", call(impl, "log_mean_exp", a, axis=0), expected, 1e-12, 0,
                 hint=lambda got, _: first_match(got, [
                     (f"larger by log K = log {a.shape[0]}: a sum of the exponentials, not their mean", expected + np.log(a.shape[0])),
                     ("that is the mean of a: the log of the mean of exp(a) is what is asked", a.mean(axis=0)),
                 ], 1e-9, 1e-12))


def log_mean_exp_finite_where_exp_overflows(impl):
    a = np.array([[1000.0, -1000.0], [1001.0, -1001.0]])
    expected = np.array([1000 + np.log((1 + np.e) / 2), -1000 + np.log((1 + np.exp(-1)) / 2)])
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        got = call(impl, "log_mean_exp", a, axis=0)
    expect_close("log_mean_exp at ±1000", got, expected, 1e-12, 0,
                 hint=lambda got, _: ("exp(1000) overflows and exp(−1000) is 0: take a number out of a before "
                                      "exponentiating, so that exp only sees numbers it can hold"
                                      if not np.all(np.isfinite(got)) else None))


def iw_bound_is_the_log_mean_of_the_weights(impl, log_w, split):
    """L_K of K weights equals log((1/K) Σ w_k), however log w is split into its three terms."""
    k, batch = log_w.shape
    log_pz = split * log_w
    log_qz = np.full_like(log_w, -1.5)
    log_px_z = log_w - log_pz + log_qz
    got = expect_shape("iw_bound", call(impl, "iw_bound", log_px_z, log_pz, log_qz), (batch,))
    m = log_w.max(axis=0)
    expected = m + np.log(np.mean(np.exp(log_w - m), axis=0))
    log_qz_flipped = log_px_z + log_pz + log_qz
    with np.errstate(all="ignore"):
        flipped = np.max(log_qz_flipped, axis=0) + np.log(np.mean(np.exp(log_qz_flipped - np.max(log_qz_flipped, axis=0)), axis=0))
    expect_close("iw_bound", got, expected, 1e-9, 1e-9, hint=lambda got, _: first_match(got, [
        (f"larger by log K = log {k}: a sum of the weights, not their mean", expected + np.log(k)),
        ("that is the mean of the log-weights (an average ELBO): the bound is the log of the mean of the weights",
         log_w.mean(axis=0)),
        ("log q(z|x) enters log w with a minus sign: w = p(x|z) p(z) / q(z|x)", flipped),
        ("that is the largest log-weight: the bound is the log of the mean of the weights", log_w.max(axis=0)),
    ], 1e-9, 1e-9))


def iw_bound_of_equal_weights_is_that_weight(impl, k, value):
    """K equal weights w: L_K = log w, for every K (a mean of equal numbers is that number)."""
    log_w = np.full((k, 2), value)
    got = call(impl, "iw_bound", log_w, np.zeros_like(log_w), np.zeros_like(log_w))
    expect_close(f"iw_bound of {k} equal log-weights {value}", got, [value, value], 1e-12, 1e-12,
                 hint=lambda got, expected: (f"larger by log K = log {k}: a sum of K equal weights, not their mean"
                                             if same_values(got, expected + np.log(k), 1e-9, 1e-9) else None))


def iw_bound_lies_between_the_mean_and_the_max(impl, log_w):
    """Jensen: mean_k log w_k <= L_K <= max_k log w_k."""
    got = np.asarray(call(impl, "iw_bound", log_w, np.zeros_like(log_w), np.zeros_like(log_w)), dtype=float)
    low, high = log_w.mean(axis=0), log_w.max(axis=0)
    if not (np.all(got >= low - 1e-9) and np.all(got <= high + 1e-9)):
        raise PropertyFailure(f"L_K = {got} outside [mean log w, max log w] = [{low}, {high}]")


def _log_weights(st, hnp):
    shapes = st.tuples(st.integers(1, 6), st.integers(1, 3))
    return {"log_w": S.arrays(st, hnp, shapes, -800, 800), "split": st.floats(-1, 1)}


LOG_MEAN_EXP_DIRECT = Property("log_mean_exp = log(mean(exp(a)))", log_mean_exp_matches_the_direct_formula,
                               cases=({},))
LOG_MEAN_EXP_OVERFLOW = Property("log_mean_exp finite where exp overflows", log_mean_exp_finite_where_exp_overflows,
                                 cases=({},))
IW_BOUND_DEFINITION = Property("iw_bound = log (1/K) Σ w_k", iw_bound_is_the_log_mean_of_the_weights,
                               strategies=_log_weights)
IW_BOUND_EQUAL_WEIGHTS = Property("iw_bound of K equal weights is that weight", iw_bound_of_equal_weights_is_that_weight,
                                  cases=tuple({"k": k, "value": v} for k in (1, 5, 100) for v in (-90.0, 0.5)))
IW_BOUND_JENSEN = Property("mean log w <= iw_bound <= max log w", iw_bound_lies_between_the_mean_and_the_max,
                           strategies=lambda st, hnp: {"log_w": _log_weights(st, hnp)["log_w"]})
