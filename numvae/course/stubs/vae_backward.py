import numpy as np


def encoder_gradient(d_mu_z, d_log_var_z, d_mu_kl, d_log_var_kl):
    """The gradient reaching the encoder's output h = [mu | log_var], from the gradients of two paths.

    The encoder's last layer outputs h of shape (batch, 2 · latent_dim), with
    mu = h[:, :latent_dim] and log_var = h[:, latent_dim:]. The loss reaches
    mu and log_var through the sample z = mu + σ · eps (the reconstruction
    term; its gradients come from reparameterize_backward) and through the KL
    (from kl_standard_normal_backward, already scaled by β / batch).

    Parameters
    ----------
    d_mu_z, d_log_var_z : ndarray, shape (batch, latent_dim), the sampler's path
    d_mu_kl, d_log_var_kl : ndarray, shape (batch, latent_dim), the KL's path

    Returns
    -------
    d_h : ndarray, shape (batch, 2 · latent_dim), laid out as h is

    `check` verifies: d_h matches central differences of the loss
    sum(d_z · z) + sum(d_kl · KL) with respect to mu and log_var (relative
    error < 1e-6), with β = 1 and 2.5.
    """
    raise NotImplementedError("encoder_gradient: not implemented yet")
