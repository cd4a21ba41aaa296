import numpy as np


def reparameterize(mu, log_var, eps):
    """A sample z ~ N(mu, σ²) written as a function of (mu, log_var): z = mu + σ · eps.

    log_var is log σ², the log of the *variance*, so that σ = exp(½ · log_var).
    The noise eps ~ N(0, I) is drawn by the caller and passed in: draw no
    random numbers here, so that the same sample can be replayed.

    Parameters
    ----------
    mu, log_var, eps : ndarray, shape (batch, latent_dim)

    Returns
    -------
    (z, std) : a tuple of two arrays of shape (batch, latent_dim); std is σ,
        returned because the backward pass needs it

    `check` verifies: std² = exp(log_var) and z = mu + std · eps to a relative
    1e-14, z = mu exactly at eps = 0; the same inputs give the same z, and a
    different eps a different z; over 20,000 draws of eps the samples have
    mean mu and variance exp(log_var) (not exp(log_var)²), within 5 standard
    errors; no argument changed in place.
    """
    raise NotImplementedError("reparameterize: not implemented yet")


def reparameterize_backward(d_z, eps, std):
    """The gradients of the loss with respect to mu and log_var, given d_z = dL/dz.

    eps and std are what the forward used and returned.

    Parameters
    ----------
    d_z, eps, std : ndarray, shape (batch, latent_dim)

    Returns
    -------
    (d_mu, d_log_var) : a tuple of two arrays of shape (batch, latent_dim)

    `check` verifies: both match central differences of sum(d_z * z) with eps
    held fixed (relative error < 1e-6), for batches of 1, 3 and 5; the same
    inputs give the same result.
    """
    raise NotImplementedError("reparameterize_backward: not implemented yet")
