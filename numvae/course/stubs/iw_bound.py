import numpy as np


def log_mean_exp(a, axis=0):
    """log(mean(exp(a), axis)), for any a: without overflow or underflow.

    Parameters
    ----------
    a : ndarray
    axis : int

    Returns
    -------
    ndarray of float64, the shape of a without ``axis``

    `check` verifies: it equals log(mean(exp(a))) to a relative 1e-12 where
    that is finite, and is finite and right where exp(a) overflows or
    underflows (a = ±1000).
    """
    raise NotImplementedError("log_mean_exp: not implemented yet")


def iw_bound(log_px_z, log_pz, log_qz):
    """The importance-weighted bound of each example (Burda et al. 2015, eq. 8).

    For K samples z_k ~ q(z|x), each with the weight
    w_k = p(x|z_k) p(z_k) / q(z_k|x):

        L_K = log (1/K) Σ_k w_k

    Parameters
    ----------
    log_px_z, log_pz, log_qz : ndarray, shape (K, batch)
        log p(x|z_k), log p(z_k) and log q(z_k|x) of each sample.

    Returns
    -------
    ndarray, shape (batch,)

    `check` verifies: L_K equals the formula to 1e-9 for log-weights as large
    as ±800 (the weights themselves are far beyond float64); K equal weights
    give that weight, for K = 1, 5 and 100; mean_k log w_k <= L_K <= max_k log w_k.
    """
    raise NotImplementedError("iw_bound: not implemented yet")
