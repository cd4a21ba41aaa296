import numpy as np


def gaussian_nll(x, mean, log_var):
    """−log N(x; mean, σ²) for independent Gaussian pixels, one number per example.

    With σ² = exp(log_var), summed over pixels d:

        −log p(x | mean) = ½ Σ_d [(x_d − mean_d)² / σ_d² + log σ_d² + log 2π]

    Parameters
    ----------
    x, mean : ndarray, shape (batch, input_dim)
    log_var : a scalar (one σ for every pixel) or ndarray of shape (input_dim,)

    Returns
    -------
    nll : ndarray, shape (batch,), in nats

    `check` verifies: it is −log of the Gaussian density, written out, to a
    relative 1e-12 (every term counts: this is a log-likelihood in nats, not
    just a loss); finite, right to a relative 1e-6 and silent when
    |x − mean| = 1e4 with σ = 0.1, in float32 too; dtype kept.
    """
    raise NotImplementedError("gaussian_nll: not implemented yet")


def gaussian_nll_backward(d_nll, x, mean, log_var):
    """The gradients of the loss with respect to mean and log_var, given d_nll = dL/d(nll).

    log_var is one parameter per pixel, shared by every example of the batch.

    Parameters
    ----------
    d_nll : ndarray of shape (batch,) (one number per example), or a scalar
    x, mean : ndarray, shape (batch, input_dim)
    log_var : a scalar or ndarray of shape (input_dim,)

    Returns
    -------
    (d_mean, d_log_var) : d_mean of shape (batch, input_dim); d_log_var of
        shape (input_dim,), whatever the shape of log_var (for a scalar
        log_var, the sum of d_log_var is its gradient)

    `check` verifies: both match central differences of sum(d_nll * nll)
    (relative error < 1e-6), with a per-pixel log_var, with a scalar one
    (summed d_log_var), and d_mean for σ = 0.1, 1 and 3.
    """
    raise NotImplementedError("gaussian_nll_backward: not implemented yet")
