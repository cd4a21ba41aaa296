r"""The Variational Autoencoder: encoder, reparameterization, decoder and loss.

For one example x the VAE maximises the evidence lower bound (ELBO)

.. math::
    \log p_\theta(x) \;\ge\; \mathcal L(\theta, \phi; x)
    = \mathbb E_{q_\phi(z|x)}[\log p_\theta(x|z)] - D_{KL}(q_\phi(z|x) \,\|\, p(z)),

with q_φ(z|x) = N(mu(x), diag exp(log_var(x))) from the encoder network
(parameters φ), p(z) = N(0, I), and p_θ(x|z) from the decoder network
(parameters θ) and a likelihood (Bernoulli or Gaussian). numvae minimises the
batch mean of

.. math::
    \text{loss} = \underbrace{-\log p_\theta(x \mid z)}_{\text{reconstruction}}
                + \beta \, \underbrace{D_{KL}(q_\phi(z|x) \,\|\, p(z))}_{\text{kl}},
    \qquad z = \mu + \exp(\tfrac12\log\sigma^2)\,\varepsilon,

a single-sample Monte Carlo estimate of the negative ELBO (for β = 1), in nats
per example. Reference: Kingma & Welling, "Auto-Encoding Variational Bayes"
(arXiv:1312.6114), the SGVB estimator of eq. (10).

Data flow of one training step (shapes for a batch of ``batch`` examples)::

    x (batch, input_dim) --encoder--> [mu | log_var] (batch, 2 latent_dim)
      --reparameterize(eps)--> z (batch, latent_dim)
      --decoder--> out (batch, input_dim): logits or mean --likelihood--> loss

``backward`` runs the same path in reverse, by hand.
"""

from typing import NamedTuple

import numpy as np

from . import gaussian, likelihoods
from .activations import ACTIVATIONS
from .layers import MLP
from .util import checks

HIDDEN_ACTIVATIONS = tuple(ACTIVATIONS)
LIKELIHOODS = ("bernoulli", "gaussian")


class LossTerms(NamedTuple):
    """Batch means in nats per example: ``loss = reconstruction + beta * kl``."""

    loss: float
    reconstruction: float
    kl: float


def encoder_gradient(d_mu_z, d_log_var_z, d_mu_kl, d_log_var_kl):
    r"""The gradient reaching the encoder's output ``h = [mu | log_var]``: the two paths added.

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
    return np.concatenate([d_mu_z + d_mu_kl, d_log_var_z + d_log_var_kl], axis=1)


class VAE:
    r"""A VAE with MLP encoder and decoder, trained by hand-written backprop.

    The defaults are those of ``numvae train`` (the README's table measures
    them): three hidden layers of 256 units and a 2-D latent space.

    Parameters
    ----------
    input_dim : int
        Size of one flattened example (784 for 28×28 images).
    hidden_dims : sequence of int, default (256, 256, 256)
        Hidden layer sizes of the encoder; the decoder mirrors them.
    latent_dim : int, default 2
        Size of z.
    likelihood : {"bernoulli", "gaussian"}, default "bernoulli"
        Bernoulli: the decoder outputs logits, data must lie in [0, 1].
        Gaussian: the decoder outputs the mean, with standard deviation ``sigma``.
    activation : {"relu", "leaky_relu", "tanh", "sigmoid", "softplus"}, default "relu"
        Between hidden layers of both networks, never after the last layer.
    beta : float >= 0, default 1
        Weight of the KL term (β-VAE; 1 gives the ELBO). May be changed
        between steps, e.g. for a KL warm-up.
    sigma : float > 0, optional
        Gaussian likelihood only: σ of p(x|z) (default 0.1), or its initial
        value if ``learn_sigma``.
    learn_sigma : bool, default False
        Gaussian likelihood only: learn a per-pixel log σ², the parameter
        ``"decoder.log_var"`` (last in ``parameters()``).
    dtype : float32 or float64, default float64
        float64 for gradient checks, float32 for fast training. Parameters,
        activations and gradients all use it; inputs are converted to it.
    seed : int, default 0
        Seeds the model's own ``np.random.Generator``, used for the initial
        weights and for ``eps`` when none is given.

    Attributes
    ----------
    encoder, decoder : MLP
    likelihood : likelihoods.Bernoulli or likelihoods.Gaussian
    rng : numpy.random.Generator
    """

    n_classes = 0
    """Width of the one-hot label joined to both networks' inputs: none in a VAE
    (:class:`numvae.cvae.CVAE` sets it to the number of classes K)."""

    def __init__(self, input_dim, hidden_dims=(256, 256, 256), latent_dim=2, likelihood="bernoulli", activation="relu",
                 beta=1.0, sigma=None, learn_sigma=False, dtype=np.float64, seed=0):
        self.input_dim = checks.positive_int("input_dim", input_dim)
        self.hidden_dims = checks.positive_ints("hidden_dims", hidden_dims)
        self.latent_dim = checks.positive_int("latent_dim", latent_dim)
        self.likelihood_name = checks.choice("likelihood", likelihood, LIKELIHOODS)
        self.activation = checks.choice("activation", activation, HIDDEN_ACTIVATIONS)
        self.beta = beta  # checked by the property setter
        self.learn_sigma = checks.boolean("learn_sigma", learn_sigma)
        if likelihood == "bernoulli" and (sigma is not None or learn_sigma):
            raise ValueError(
                "sigma: only used with likelihood='gaussian', got "
                f"sigma={sigma!r}, learn_sigma={learn_sigma!r} with likelihood='bernoulli'"
            )
        self.sigma = None if sigma is None else checks.real("sigma", sigma, minimum=0, strict=True)
        # Not float16: Adam's squared gradients and its δ underflow to 0 there
        # (0/0 on the first step); and a checkpoint holds float32 or float64.
        self.dtype = checks.floating_dtype("dtype", dtype, allowed=("float32", "float64"))
        self.seed = checks.non_negative_int("seed", seed)
        self.rng = np.random.default_rng(self.seed)

        # Each network's input is widened by the one-hot label a CVAE joins to it (none here: n_classes = 0).
        self.encoder = MLP((self.input_dim + self.n_classes, *self.hidden_dims, 2 * self.latent_dim), self.activation,
                           self.rng, self.dtype)
        self.decoder = MLP((self.latent_dim + self.n_classes, *reversed(self.hidden_dims), self.input_dim),
                           self.activation, self.rng, self.dtype)
        if self.likelihood_name == "bernoulli":
            self.likelihood = likelihoods.Bernoulli()
        else:
            self.sigma = 0.1 if self.sigma is None else self.sigma
            self.likelihood = likelihoods.Gaussian(self.sigma, self.input_dim, self.learn_sigma, self.dtype)
        self._cache = None

    def config(self):
        """The constructor arguments, as a dict (enough to rebuild the model)."""
        return {
            "input_dim": self.input_dim,
            "hidden_dims": list(self.hidden_dims),
            "latent_dim": self.latent_dim,
            "likelihood": self.likelihood_name,
            "activation": self.activation,
            "beta": self.beta,
            "sigma": self.sigma,
            "learn_sigma": self.learn_sigma,
            "dtype": self.dtype.name,
            "seed": self.seed,
        }

    @property
    def beta(self):
        """Weight β >= 0 of the KL term; checked on every assignment."""
        return self._beta

    @beta.setter
    def beta(self, value):
        self._beta = checks.real("beta", value, minimum=0)

    def parameters(self):
        """Name -> live parameter array (updated in place by an optimizer).

        Order: the encoder's φ, its Dense layers first to last, then the
        decoder's θ, its Dense layers first to last, each ``W`` then ``b``;
        ``"decoder.log_var"`` last if the Gaussian σ is learned. Names look
        like ``"encoder.0.W"``.
        """
        return {**self.encoder.parameters("encoder"), **self.decoder.parameters("decoder"),
                **{f"decoder.{key}": value for key, value in self.likelihood.params.items()}}

    # ------------------------------------------------------------------
    # Forward pieces (no cache: safe to call between loss() and backward())
    # ------------------------------------------------------------------

    def _check_x(self, x):
        return checks.batch("x", x, self.input_dim, self.dtype, unit_interval=self.likelihood_name == "bernoulli")

    def encode(self, x):
        """q_φ(z|x): returns ``mu, log_var``, each of shape (batch, latent_dim)."""
        h = self.encoder.forward(self._check_x(x), keep_cache=False)
        return h[:, : self.latent_dim], h[:, self.latent_dim :]

    def decode(self, z):
        """E[x|z], shape (batch, input_dim): Bernoulli probabilities or the Gaussian mean."""
        z = checks.batch("z", z, self.latent_dim, self.dtype)
        return self.likelihood.mean(self.decoder.forward(z, keep_cache=False))

    def reconstruct(self, x):
        """Decode the posterior mean: ``decode(mu(x))``, shape (batch, input_dim)."""
        mu, _ = self.encode(x)
        return self.decode(mu)

    def sample(self, n, rng=None):
        """Decode ``n`` draws z ~ N(0, I) from the prior: shape (n, input_dim).

        ``rng`` (a ``numpy.random.Generator``) defaults to the model's own.
        """
        n = checks.positive_int("n", n)
        rng = self.rng if rng is None else checks.generator("rng", rng)
        return self.decode(rng.standard_normal((n, self.latent_dim)).astype(self.dtype, copy=False))

    def log_px_given_z(self, x, z):
        """log p_θ(x|z) for each row, shape (batch,). ``x`` (batch, input_dim), ``z`` (batch, latent_dim)."""
        x = self._check_x(x)
        z = checks.batch("z", z, self.latent_dim, self.dtype)
        return -self.likelihood.nll(x, self.decoder.forward(z, keep_cache=False), keep_cache=False)

    def _draw_eps(self, batch_size, eps):
        if eps is None:
            return self.rng.standard_normal((batch_size, self.latent_dim)).astype(self.dtype, copy=False)
        eps = np.asarray(eps)
        if eps.shape != (batch_size, self.latent_dim):
            raise ValueError(f"eps: expected shape ({batch_size}, {self.latent_dim}), got {eps.shape}")
        return checks.batch("eps", eps, self.latent_dim, self.dtype)

    def _forward(self, x, eps, keep_cache):
        """One pass; per-example reconstruction and KL, each (batch,)."""
        h = self.encoder.forward(x, keep_cache)  # (batch, 2 latent_dim)
        mu, log_var = h[:, : self.latent_dim], h[:, self.latent_dim :]  # each (batch, latent_dim)
        z, std = gaussian.reparameterize(mu, log_var, eps)  # (batch, latent_dim)
        out = self.decoder.forward(z, keep_cache)  # (batch, input_dim): logits or mean
        reconstruction = self.likelihood.nll(x, out, keep_cache)  # (batch,)
        kl = gaussian.kl_standard_normal(mu, log_var)  # (batch,)
        if keep_cache:
            self._cache = (mu, log_var, eps, std)
        return reconstruction, kl

    def per_example_terms(self, x, eps=None):
        """Reconstruction −log p(x|z) and KL for each example, each (batch,).

        Nothing is cached. ``reconstruction + kl`` is a one-sample estimate of
        each example's −ELBO: a natural anomaly score.
        """
        x = self._check_x(x)
        return self._forward(x, self._draw_eps(len(x), eps), keep_cache=False)

    # ------------------------------------------------------------------
    # Training: loss() then backward()
    # ------------------------------------------------------------------

    def loss(self, x, eps=None):
        """Forward pass of one training step; caches what ``backward`` needs.

        Parameters
        ----------
        x : array, shape (batch, input_dim)
        eps : array, shape (batch, latent_dim), optional
            The noise of the reparameterization; drawn from ``self.rng`` when
            None. Pass it to replay exactly the same sample.

        Returns
        -------
        LossTerms
            ``loss = reconstruction + beta * kl``, batch means in nats per example.
        """
        self._cache = None  # if this forward fails, backward() must not reuse an old batch
        x = self._check_x(x)
        reconstruction, kl = self._forward(x, self._draw_eps(len(x), eps), keep_cache=True)
        rec, kl_mean = float(np.mean(reconstruction)), float(np.mean(kl))
        return LossTerms(rec + self.beta * kl_mean, rec, kl_mean)

    def _decoder_backward(self, d_out):
        """The decoder's backward: ``d_out`` (batch, input_dim) -> ``d_z`` (batch, latent_dim)."""
        return self.decoder.backward(d_out)

    def backward(self):
        r"""Gradients of the last ``loss()`` with respect to every parameter.

        With :math:`L = \frac1B \sum_i (r_i + \beta k_i)`, each example's
        reconstruction :math:`r_i` gets upstream gradient :math:`1/B` and its
        KL :math:`k_i` gets :math:`\beta/B`. z receives gradient from the
        decoder only; mu and log_var from the sampler and from the KL.

        Returns
        -------
        dict
            Same keys, order and shapes as ``parameters()``.
        """
        if self._cache is None:
            raise RuntimeError("backward() called before loss(): compute the loss on a batch first")
        mu, log_var, eps, std = self._cache
        batch_size = mu.shape[0]
        d_rec = self.dtype.type(1.0 / batch_size)  # dL/dr_i
        d_kl = self.dtype.type(self.beta / batch_size)  # dL/dk_i

        d_out = self.likelihood.backward(d_rec)  # (batch, input_dim)
        d_z = self._decoder_backward(d_out)  # (batch, latent_dim)
        d_mu_z, d_log_var_z = gaussian.reparameterize_backward(d_z, eps, std)
        d_mu_kl, d_log_var_kl = gaussian.kl_standard_normal_backward(d_kl, mu, log_var)
        self.encoder.backward(encoder_gradient(d_mu_z, d_log_var_z, d_mu_kl, d_log_var_kl), need_d_x=False)
        return {**self.encoder.gradients("encoder"), **self.decoder.gradients("decoder"),
                **{f"decoder.{key}": value for key, value in self.likelihood.grads.items()}}
