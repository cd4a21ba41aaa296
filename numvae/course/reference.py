r"""Pure-function forms of numvae's Dense layer, Adam step, IW bound and encoder wiring.

numvae's engine holds these inside objects (``layers.Dense``, ``optim.Adam``,
``VAE.backward``, ``evaluate.importance_weighted_log_likelihood``). An exercise
needs a function a student can write alone, so here they are as functions, each
the same arithmetic as the engine: ``tests/test_exercises.py`` checks that they
agree with the engine bit for bit, so the solutions cannot drift from it.
"""

import math

import numpy as np

from ..evaluate import log_mean_exp


def dense_forward(x, W, b):
    r"""Affine layer :math:`y = x W + b`.

    Parameters
    ----------
    x : ndarray, shape (batch, fan_in)
    W : ndarray, shape (fan_in, fan_out)
    b : ndarray, shape (fan_out,)

    Returns
    -------
    y : ndarray, shape (batch, fan_out)
    """
    y = x @ W  # (batch, fan_out)
    y += b
    return y


def dense_backward(d_y, x, W):
    r"""Gradients of :math:`y = x W + b` from :math:`\bar y = \partial L / \partial y`.

    .. math::
        \frac{\partial L}{\partial W} = x^\top \bar y, \quad
        \frac{\partial L}{\partial b} = \textstyle\sum_{\mathrm{batch}} \bar y, \quad
        \frac{\partial L}{\partial x} = \bar y W^\top.

    Parameters
    ----------
    d_y : ndarray, shape (batch, fan_out)
    x : ndarray, shape (batch, fan_in), the forward's input
    W : ndarray, shape (fan_in, fan_out)

    Returns
    -------
    d_W : ndarray, shape (fan_in, fan_out)
    d_b : ndarray, shape (fan_out,)
    d_x : ndarray, shape (batch, fan_in)
    """
    return x.T @ d_y, np.sum(d_y, axis=0), d_y @ W.T


def encoder_gradient(d_mu_z, d_log_var_z, d_mu_kl, d_log_var_kl):
    r"""Gradient reaching the encoder's output ``h = [mu | log_var]`` in ``VAE.backward``.

    mu and log_var reach the loss along two paths: through the sample
    :math:`z = \mu + \sigma\varepsilon` (the reconstruction term; its
    gradients come from ``reparameterize_backward``) and through the KL (from
    ``kl_standard_normal_backward``, already scaled by β/batch). The chain rule
    adds the paths:

    .. math::
        \frac{\partial L}{\partial \mu} = \frac{\partial L}{\partial z}\frac{\partial z}{\partial \mu}
            + \frac{\partial L}{\partial D_{KL}}\frac{\partial D_{KL}}{\partial \mu},
        \qquad \text{and the same for } \log\sigma^2.

    The encoder's last layer outputs ``h`` with ``h[:, :latent_dim] = mu`` and
    ``h[:, latent_dim:] = log_var``, so its upstream gradient has that layout.

    Parameters
    ----------
    d_mu_z, d_log_var_z : ndarray, shape (batch, latent_dim)
        The sampler's path.
    d_mu_kl, d_log_var_kl : ndarray, shape (batch, latent_dim)
        The KL's path.

    Returns
    -------
    d_h : ndarray, shape (batch, 2 * latent_dim), ``[d_mu | d_log_var]``
    """
    return np.concatenate([d_mu_z + d_mu_kl, d_log_var_z + d_log_var_kl], axis=1)  # (batch, 2 latent_dim)


def adam_step(param, grad, m, v, t, lr, betas=(0.9, 0.999), epsilon=1e-8):
    r"""Step t (counting from 1) of Adam (Kingma & Ba 2015, Algorithm 1).

    .. math::
        m \leftarrow \rho_1 m + (1 - \rho_1) g, \qquad
        v \leftarrow \rho_2 v + (1 - \rho_2) g^2, \qquad
        \theta \leftarrow \theta - \eta \frac{m / (1 - \rho_1^t)}{\sqrt{v / (1 - \rho_2^t)} + \delta}.

    The bias corrections are folded into the step size (the paper's "efficient
    version"): :math:`\eta_t = \eta \sqrt{1 - \rho_2^t} / (1 - \rho_1^t)` and
    :math:`\delta_t = \delta \sqrt{1 - \rho_2^t}` give the same update.

    Parameters
    ----------
    param, grad, m, v : ndarray, all of one shape
    t : int >= 1
    lr : float
        The learning rate η.
    betas : (float, float)
        The decay rates ρ₁, ρ₂.
    epsilon : float
        The stabilizing constant δ.

    Returns
    -------
    param, m, v : ndarray, the updated values (same shape)
    """
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * (grad * grad)
    lr_t = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
    eps_t = epsilon * math.sqrt(1 - beta2**t)
    return param - lr_t * (m / (np.sqrt(v) + eps_t)), m, v


def iw_bound(log_px_z, log_pz, log_qz):
    r"""The importance-weighted bound :math:`\mathcal L_K = \log \frac1K \sum_k w_k` per example.

    .. math::
        \log w_k = \log p(x \mid z_k) + \log p(z_k) - \log q(z_k \mid x)

    Parameters
    ----------
    log_px_z, log_pz, log_qz : ndarray, shape (K, batch)

    Returns
    -------
    ndarray, shape (batch,)
    """
    return log_mean_exp(log_px_z + log_pz - log_qz, axis=0)
