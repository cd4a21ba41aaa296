import numpy as np


def kl_standard_normal(mu, log_var):
    """KL(q ‖ p) from q = N(mu, diag σ²) to the prior p = N(0, I), one number per example.

    With σ² = exp(log_var), summed over the latent dimensions j:

        KL = ½ Σ_j (mu_j² + σ_j² − log σ_j² − 1)

    Parameters
    ----------
    mu, log_var : ndarray, shape (batch, latent_dim)

    Returns
    -------
    kl : ndarray, shape (batch,), in nats (shape (1,) for a batch of one)

    `check` verifies: KL = 0 exactly at mu = log_var = 0; KL >= 0 everywhere,
    including next to the prior (log_var = 1e-8), and KL > 0 away from it;
    accuracy near the prior: at mu = 0 and log_var = t = 1e-3, 1e-6, 1e-8 and
    −1e-8 the KL (about t²/4) must be right to a relative 1e-6, which the
    formula above, evaluated as written, is not (see the hints); agreement
    with a Monte Carlo estimate E_q[log q(z) − log p(z)] (5 standard errors);
    float32 in, float32 out.
    """
    raise NotImplementedError("kl_standard_normal: not implemented yet")


def kl_standard_normal_backward(d_kl, mu, log_var):
    """The gradients of the loss with respect to mu and log_var, given d_kl = dL/dKL.

    Parameters
    ----------
    d_kl : ndarray of shape (batch,) (one number per example), or a scalar
    mu, log_var : ndarray, shape (batch, latent_dim)

    Returns
    -------
    (d_mu, d_log_var) : a tuple of two arrays of shape (batch, latent_dim)

    `check` verifies: both match central differences of sum(d_kl * KL)
    (relative error < 1e-6) for a per-example d_kl and for a scalar one, at a
    batch of 1 and of 4; float32 in (mu, log_var, and d_kl as a float32
    scalar or array), float32 out.
    """
    raise NotImplementedError("kl_standard_normal_backward: not implemented yet")
