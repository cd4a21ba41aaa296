r"""The VAE whose decoder is a MADE: a decoder strong enough to model x without z.

An MLP decoder makes the pixels independent given z,
:math:`p_\theta(x|z) = \prod_d p_\theta(x_d|z)`, so whatever the pixels of an image
share (the stroke they belong to, the digit) must pass through z. The MADE
decoder of :mod:`numvae.made`,
:math:`p_\theta(x|z) = \prod_d p_\theta(x_d \mid x_{<d}, z)`, can model x from the
pixels already drawn, without z, and z then has to pay its KL for whatever it
adds. The ELBO is :math:`\log p_\theta(x) - D_{KL}(q_\phi(z|x) \,\|\, p_\theta(z|x))`:
a model that ignores z has :math:`p_\theta(z|x) = p(z)`, which :math:`q_\phi = p(z)`
matches exactly, so it pays no gap at all, while a model that uses z pays
the gap of an imperfect :math:`q_\phi`. When the decoder can model the data
about as well without z, ignoring z wins, at β = 1: *posterior collapse*
(Bowman et al., "Generating Sentences from a Continuous Space", 2016,
arXiv:1511.06349; Chen et al., "Variational Lossy Autoencoder", 2017,
arXiv:1611.02731, section 2). Free bits
(:mod:`numvae.collapse`) and a KL warm-up are the classic remedies.

The encoder :math:`q_\phi(z|x)`, the sampler and the KL are :class:`numvae.VAE`'s;
only the decoder differs, and it reads x as well as z.
"""

import numpy as np

from . import gaussian
from .collapse import free_bits, free_bits_backward, unit_kl
from .layers import MLP
from .likelihoods import Bernoulli
from .made import MADE
from .util import checks
from .vae import HIDDEN_ACTIVATIONS, LossTerms, encoder_gradient




class MADEVAE:
    r"""A VAE whose decoder :math:`p_\theta(x|z)` is a :class:`~numvae.made.MADE`; its encoder :math:`q_\phi(z|x)` an MLP.

    The loss is :class:`numvae.VAE`'s, the batch mean of
    :math:`-\log p_\theta(x|z) + \beta\, D_{KL}(q_\phi(z|x) \,\|\, p(z))`, one
    sample :math:`z = \mu + \sigma\varepsilon` per example, exact given z.
    With ``free_bits`` λ > 0 the KL term becomes
    :func:`numvae.collapse.free_bits` (training only; the KL reported and
    :meth:`per_example_terms` stay the true ones).

    Parameters
    ----------
    input_dim : int >= 2
        Pixels, in raster order (the MADE's order).
    hidden_dims : sequence of int, default (400,)
        The encoder's hidden sizes.
    decoder_hidden_dims : sequence of int, default ``hidden_dims`` reversed
        The MADE's hidden sizes.
    latent_dim : int, default 20
    activation : str, default "relu"
    beta : float >= 0, default 1
    free_bits : float >= 0, default 0
        λ, in nats per latent unit.
    dtype : float32 or float64, default float64
    seed : int, default 0

    Notes
    -----
    Binary data only (a Bernoulli decoder); grey levels in [0, 1] are accepted
    as targets, as by :class:`numvae.VAE`.
    """

    likelihood_name = "bernoulli"
    n_classes = 0
    """No label joined to the networks (the Trainer and ``numvae.evaluate`` ask, as of a :class:`numvae.VAE`)."""

    def __init__(self, input_dim, hidden_dims=(400,), decoder_hidden_dims=None, latent_dim=20, activation="relu",
                 beta=1.0, free_bits=0.0, dtype=np.float64, seed=0):
        self.input_dim = checks.positive_int("input_dim", input_dim)
        if self.input_dim < 2:
            raise ValueError(f"input_dim: expected at least 2 pixels for an autoregressive decoder, got {input_dim!r}")
        self.hidden_dims = checks.positive_ints("hidden_dims", hidden_dims)
        self.decoder_hidden_dims = tuple(reversed(self.hidden_dims)) if decoder_hidden_dims is None else \
            checks.positive_ints("decoder_hidden_dims", decoder_hidden_dims)
        self.latent_dim = checks.positive_int("latent_dim", latent_dim)
        self.activation = checks.choice("activation", activation, HIDDEN_ACTIVATIONS)
        self.beta = beta  # checked by the property setters
        self.free_bits = free_bits
        self.dtype = checks.floating_dtype("dtype", dtype, allowed=("float32", "float64"))
        self.seed = checks.non_negative_int("seed", seed)
        self.rng = np.random.default_rng(self.seed)

        self.encoder = MLP((self.input_dim, *self.hidden_dims, 2 * self.latent_dim), self.activation, self.rng, self.dtype)
        self.decoder = MADE(self.input_dim, self.decoder_hidden_dims, self.latent_dim, self.activation, self.rng,
                            self.dtype)
        self.likelihood = Bernoulli()
        self._cache = None

    def config(self):
        """The constructor arguments, as a dict (enough to rebuild the model)."""
        return {"input_dim": self.input_dim, "hidden_dims": list(self.hidden_dims),
                "decoder_hidden_dims": list(self.decoder_hidden_dims), "latent_dim": self.latent_dim,
                "activation": self.activation, "beta": self.beta, "free_bits": self.free_bits,
                "dtype": self.dtype.name, "seed": self.seed}

    @property
    def beta(self):
        """Weight β >= 0 of the KL term; checked on every assignment (a warm-up changes it)."""
        return self._beta

    @beta.setter
    def beta(self, value):
        self._beta = checks.real("beta", value, minimum=0)

    @property
    def free_bits(self):
        """λ >= 0, the nats per unit the KL term leaves free (0: the plain KL)."""
        return self._free_bits

    @free_bits.setter
    def free_bits(self, value):
        self._free_bits = checks.real("free_bits", value, minimum=0)

    def parameters(self):
        """Name -> live array: the encoder's φ (``"encoder.i.W"``, ``"encoder.i.b"``), then the MADE's θ (``"decoder.i.…"``)."""
        return {**self.encoder.parameters("encoder"), **self.decoder.parameters("decoder")}

    # -- forward pieces, no cache ------------------------------------------

    def _check_x(self, x):
        return checks.batch("x", x, self.input_dim, self.dtype, unit_interval=True)

    def encode(self, x):
        """q_φ(z|x): ``mu, log_var``, each (batch, latent_dim)."""
        h = self.encoder.forward(self._check_x(x), keep_cache=False)
        return h[:, : self.latent_dim], h[:, self.latent_dim :]

    def log_px_given_z(self, x, z):
        """log p_θ(x|z) of each row, shape (batch,): one pass, the observed pixels as inputs."""
        x = self._check_x(x)
        z = checks.batch("z", z, self.latent_dim, self.dtype)
        return -self.likelihood.nll(x, self.decoder.forward(x, z, keep_cache=False), keep_cache=False)

    def sample(self, n, rng=None, z=None):
        """Draw ``n`` binary images x ~ p_θ(x|z), pixel by pixel: shape (n, input_dim).

        ``z`` (n, latent_dim) defaults to draws from the prior N(0, I);
        ``rng`` (a Generator) to the model's own. Pixel d is drawn from
        sigmoid(l_d) once pixels 1..d-1 are in place: D passes of the hidden layers.
        """
        n = checks.positive_int("n", n)
        rng = self.rng if rng is None else checks.generator("rng", rng)
        if z is None:
            z = rng.standard_normal((n, self.latent_dim))
        z = checks.batch("z", z, self.latent_dim, self.dtype)
        if len(z) != n:
            raise ValueError(f"z: expected {n} rows, got {len(z)}")
        x = np.zeros((n, self.input_dim), dtype=self.dtype)
        for d in range(self.input_dim):
            logit = self.decoder.logit(x, z, d)  # (n,): reads x_<d only
            x[:, d] = rng.random(n) < self.likelihood.mean(logit)
        return x

    def _draw_eps(self, batch_size, eps):
        if eps is None:
            return self.rng.standard_normal((batch_size, self.latent_dim)).astype(self.dtype, copy=False)
        eps = checks.batch("eps", eps, self.latent_dim, self.dtype)
        if len(eps) != batch_size:
            raise ValueError(f"eps: expected shape ({batch_size}, {self.latent_dim}), got {eps.shape}")
        return eps

    def _forward(self, x, eps, keep_cache):
        """One pass; per-example reconstruction (batch,) and per-unit KL (batch, latent_dim)."""
        h = self.encoder.forward(x, keep_cache)  # (batch, 2 latent_dim)
        mu, log_var = h[:, : self.latent_dim], h[:, self.latent_dim :]  # each (batch, latent_dim)
        z, std = gaussian.reparameterize(mu, log_var, eps)  # (batch, latent_dim)
        logits = self.decoder.forward(x, z, keep_cache)  # (batch, input_dim): teacher forcing, x is the input
        reconstruction = self.likelihood.nll(x, logits, keep_cache)  # (batch,)
        kl_units = unit_kl(mu, log_var)  # (batch, latent_dim)
        if keep_cache:
            self._cache = (mu, log_var, eps, std, kl_units)
        return reconstruction, kl_units

    def per_example_terms(self, x, eps=None):
        """−log p_θ(x|z) and the true KL of each example, each (batch,); nothing cached."""
        x = self._check_x(x)
        reconstruction, kl_units = self._forward(x, self._draw_eps(len(x), eps), keep_cache=False)
        return reconstruction, kl_units.sum(axis=1)

    # -- training: loss() then backward() -----------------------------------

    def loss(self, x, eps=None):
        """Forward pass of one training step; caches what ``backward`` needs.

        Returns :class:`~numvae.vae.LossTerms`: ``loss`` is the objective
        trained (``reconstruction + beta * kl``, with the free-bits term in
        place of ``kl`` if λ > 0), ``kl`` the true batch-mean KL.
        """
        self._cache = None
        x = self._check_x(x)
        reconstruction, kl_units = self._forward(x, self._draw_eps(len(x), eps), keep_cache=True)
        rec = float(np.mean(reconstruction))
        return LossTerms(rec + self.beta * free_bits(kl_units, self.free_bits), rec,
                         float(np.mean(kl_units.sum(axis=1))))

    def backward(self):
        r"""Gradients of the last ``loss()`` with respect to every parameter, keyed as ``parameters()``.

        As :meth:`numvae.VAE.backward`, with two changes: z's gradient comes
        from every layer of the MADE (:meth:`numvae.made.MADE.backward` sums them), and
        the KL's upstream gradient is per unit, from :func:`free_bits_backward`
        (β/B everywhere when λ = 0).
        """
        if self._cache is None:
            raise RuntimeError("backward() called before loss(): compute the loss on a batch first")
        mu, log_var, eps, std, kl_units = self._cache
        d_logits = self.likelihood.backward(self.dtype.type(1.0 / len(mu)))  # (batch, input_dim)
        d_z = self.decoder.backward(d_logits)  # (batch, latent_dim)
        d_mu_z, d_log_var_z = gaussian.reparameterize_backward(d_z, eps, std)
        d_kl_units = free_bits_backward(self.beta, kl_units, self.free_bits)  # (batch, latent_dim)
        d_mu_unit, d_log_var_unit = gaussian.kl_standard_normal_backward(1.0, mu, log_var)  # ∂KL_j/∂mu_j, ∂KL_j/∂log_var_j
        self.encoder.backward(encoder_gradient(d_mu_z, d_log_var_z, d_kl_units * d_mu_unit, d_kl_units * d_log_var_unit),
                              need_d_x=False)
        return {**self.encoder.gradients("encoder"), **self.decoder.gradients("decoder")}
