r"""Training with the importance-weighted bound: the IWAE (Burda, Grosse & Salakhutdinov 2015).

The VAE maximises the ELBO; the IWAE, with the *same* encoder and decoder
(parameters φ and θ, as Kingma & Welling write them), maximises the bound that
:mod:`numvae.evaluate` uses to estimate log p(x) (Burda et al., arXiv:1509.00519, eq. 8):

.. math::
    \mathcal L_K(x) = \log \frac1K \sum_{k=1}^K w_k, \qquad
    \log w_k = \log p_\theta(x \mid z_k) + \log p(z_k) - \log q_\phi(z_k \mid x), \qquad
    z_k = \mu_\phi(x) + \sigma_\phi(x)\,\varepsilon_k .

**Its gradient, by hand.** With the noise ε fixed, every :math:`\log w_k` is a
differentiable function of (φ, θ), and the chain rule through the log of a sum gives

.. math::
    \nabla \mathcal L_K = \frac{\sum_k w_k \nabla \log w_k}{\sum_j w_j}
    = \sum_k \tilde w_k\, \nabla \log w_k, \qquad
    \tilde w_k = \frac{w_k}{\sum_j w_j} = \mathrm{softmax}_k(\log w),

(:func:`numvae.evaluate.iw_bound_backward`): the gradient of each sample's
one-sample ELBO, weighted by how well that sample explains x. Samples the
model finds implausible get weight near 0 and no say; the ELBO's gradient
would give every sample 1/K. Averaged over ε this is the gradient of
:math:`\mathbb E_\varepsilon[\mathcal L_K]` (Burda et al., section 3), for the
reason given in :func:`numvae.gaussian.reparameterize_backward`.

Each :math:`\nabla \log w_k` is a VAE's backward pass with three upstream terms:

* :math:`\log p_\theta(x|z_k)`: the likelihood's and the decoder's backward,
  as in the VAE, with upstream :math:`\tilde w_k` instead of 1: θ and z_k;
* :math:`\log p(z_k)`: :math:`\partial/\partial z = -z`
  (:func:`numvae.gaussian.log_standard_normal_backward`);
* :math:`-\log q_\phi(z_k|x)`: its partial derivatives in z, μ and log σ²
  (:func:`numvae.gaussian.log_normal_backward`).

Then z_k's gradient goes through :math:`z = \mu + \sigma\varepsilon`
(:func:`numvae.gaussian.reparameterize_backward`), is added to the direct
paths into μ and log σ² (:func:`numvae.vae.encoder_gradient`), summed over the
K samples that share one (μ, log σ²), and goes into the encoder.

**K = 1 is the VAE, with a sampled KL.** At K = 1, :math:`\tilde w_1 = 1` and
:math:`-\mathcal L_1 = -\log p(x|z) + [\log q(z|x) - \log p(z)]`: Kingma &
Welling's estimator :math:`\tilde{\mathcal L}^A` (their eq. 6), the VAE's loss
with the analytic KL replaced by its one-sample estimate at the same z. Its
θ-gradient is the VAE's exactly (the KL does not involve θ); its gradient in
(μ, log σ²) has :math:`(z, \tfrac12(z\sigma\varepsilon - 1))` where the
analytic KL has :math:`(\mu, \tfrac12(\sigma^2 - 1))`, equal in expectation
over ε. ``tests/math/test_iwae.py`` checks both to round-off.
"""

from typing import NamedTuple

import numpy as np

from . import gaussian
from .evaluate import iw_bound, iw_bound_backward, normalized_weights
from .util import checks
from .vae import VAE, encoder_gradient


class IWAETerms(NamedTuple):
    """Batch means in nats per example, from the K samples of one ``loss`` call.

    ``loss`` is −𝓛_K; ``elbo`` is the mean of the K·batch log-weights, the
    ELBO estimated from the same samples (its KL by Monte Carlo); ``ess`` is
    the mean effective sample size 1 / Σ_k w̃_k², between 1 (one sample
    carries all the weight) and K (all weigh the same).
    """

    loss: float
    elbo: float
    ess: float


class IWAE(VAE):
    r"""A VAE trained on the importance-weighted bound :math:`\mathcal L_K` instead of the ELBO.

    The networks, their initialisation (for a given ``seed``), ``encode``,
    ``decode``, ``sample``, ``parameters`` and the evaluation functions are the
    VAE's: only ``loss`` and ``backward`` differ. The bound has no KL weight,
    so β is 1 and stays 1. Train it with the three lines of a training step,
    as lecture 11 does; ``numvae.training.Trainer`` reads the VAE's
    ``LossTerms`` (reconstruction and KL), which the bound does not split into.

    Parameters
    ----------
    k : int >= 1, default 5
        The number of importance samples used when ``loss`` is called without one.
    **vae_arguments
        Those of :class:`numvae.vae.VAE`, except ``beta``.
    """

    def __init__(self, input_dim, hidden_dims=(256, 256, 256), latent_dim=2, likelihood="bernoulli",
                 activation="relu", k=5, sigma=None, learn_sigma=False, dtype=np.float64, seed=0):
        super().__init__(input_dim, hidden_dims, latent_dim, likelihood, activation, 1.0, sigma, learn_sigma, dtype,
                         seed)
        self.k = checks.positive_int("k", k)

    @property
    def beta(self):
        """Always 1: the importance-weighted bound has no KL term to weight."""
        return 1.0

    @beta.setter
    def beta(self, value):
        if checks.real("beta", value, minimum=0) != 1:
            raise ValueError(f"beta: the IWAE's bound has no KL weight, so beta is 1; got {value!r} "
                             "(for a β-VAE use numvae.VAE)")

    def config(self):
        config = super().config()
        del config["beta"]
        return {**config, "k": self.k}

    def _draw_iw_eps(self, k, batch_size, eps):
        shape = (k, batch_size, self.latent_dim)
        if eps is None:
            return self.rng.standard_normal(shape).astype(self.dtype, copy=False)
        if np.shape(eps) != shape:
            raise ValueError(f"eps: expected shape (k, batch, latent_dim) = {shape}, got {np.shape(eps)}")
        return checks.batch("eps", np.reshape(eps, (-1, self.latent_dim)), self.latent_dim, self.dtype).reshape(shape)

    def loss(self, x, k=None, eps=None):
        r"""−𝓛_K, the batch mean of minus the importance-weighted bound; caches what ``backward`` needs.

        Parameters
        ----------
        x : array, shape (batch, input_dim)
        k : int >= 1, optional
            Importance samples per example; default ``self.k``.
        eps : array, shape (k, batch, latent_dim), optional
            The noise of the K samples; drawn from ``self.rng`` when None.
            Pass it to replay exactly the same samples.

        Returns
        -------
        IWAETerms
        """
        self._cache = None  # if this forward fails, backward() must not reuse an old batch
        k = self.k if k is None else checks.positive_int("k", k)
        x = self._check_x(x)
        batch_size, latent_dim = len(x), self.latent_dim
        eps = self._draw_iw_eps(k, batch_size, eps)  # (k, batch, latent_dim)

        h = self.encoder.forward(x)  # (batch, 2 latent_dim)
        mu, log_var = h[:, :latent_dim], h[:, latent_dim:]  # (batch, latent_dim) each
        z, std = gaussian.reparameterize(mu, log_var, eps)  # (k, batch, latent_dim): mu, std broadcast over k
        out = self.decoder.forward(z.reshape(k * batch_size, latent_dim))  # (k batch, input_dim), sample-major
        x_rep = np.broadcast_to(x, (k, *x.shape)).reshape(k * batch_size, -1)  # (k batch, input_dim)
        log_px_z = -self.likelihood.nll(x_rep, out).reshape(k, batch_size).astype(np.float64)  # (k, batch)
        log_pz = gaussian.log_standard_normal(z)  # (k, batch), float64
        log_qz = gaussian.log_normal(z, mu, log_var)  # (k, batch), float64
        bound = iw_bound(log_px_z, log_pz, log_qz)  # (batch,)
        self._cache = (mu, log_var, eps, std, z, log_px_z, log_pz, log_qz)

        log_w = log_px_z + log_pz - log_qz  # (k, batch)
        ess = 1.0 / np.sum(normalized_weights(log_w) ** 2, axis=0)  # (batch,)
        return IWAETerms(-float(np.mean(bound)), float(np.mean(log_w)), float(np.mean(ess)))

    def backward(self):
        r"""Gradients of the last ``loss()``: :math:`-\frac1B \sum_i \sum_k \tilde w_{ik} \nabla \log w_{ik}`.

        Returns
        -------
        dict
            Same keys, order and shapes as ``parameters()``.
        """
        if self._cache is None:
            raise RuntimeError("backward() called before loss(): compute the loss on a batch first")
        mu, log_var, eps, std, z, log_px_z, log_pz, log_qz = self._cache
        k, batch_size, latent_dim = z.shape
        d_log_px_z, d_log_pz, d_log_qz = (
            d.astype(self.dtype) for d in iw_bound_backward(-1.0 / batch_size, log_px_z, log_pz, log_qz))  # (k, batch)

        d_out = self.likelihood.backward(-d_log_px_z.reshape(k * batch_size))  # nll = −log p(x|z)
        d_z = self._decoder_backward(d_out).reshape(k, batch_size, latent_dim)  # (k, batch, latent_dim)
        d_z += gaussian.log_standard_normal_backward(d_log_pz, z)
        d_z_q, d_mu_q, d_log_var_q = gaussian.log_normal_backward(d_log_qz, z, mu, log_var)  # (k, batch, latent_dim)
        d_mu_z, d_log_var_z = gaussian.reparameterize_backward(d_z + d_z_q, eps, std)  # (k, batch, latent_dim)
        d_h = encoder_gradient(d_mu_z.sum(axis=0), d_log_var_z.sum(axis=0), d_mu_q.sum(axis=0), d_log_var_q.sum(axis=0))
        self.encoder.backward(d_h, need_d_x=False)
        return {**self.encoder.gradients("encoder"), **self.decoder.gradients("decoder"),
                **{f"decoder.{key}": value for key, value in self.likelihood.grads.items()}}
