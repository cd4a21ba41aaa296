r"""The conditional VAE: q_φ(z|x,y) and p_θ(x|z,y), with the label y joined to both networks' inputs.

For an example x with class label y, the CVAE maximises

.. math::
    \log p_\theta(x \mid y) \;\ge\; \mathbb E_{q_\phi(z|x,y)}[\log p_\theta(x \mid z, y)]
        - D_{KL}(q_\phi(z \mid x, y) \,\|\, p(z)), \qquad p(z) = \mathcal N(0, I),

the VAE's bound (:mod:`numvae.vae`; φ the encoder's parameters, θ the
decoder's) with every distribution given y: Jensen's
inequality on :math:`\log p(x|y) = \log \mathbb E_{q(z|x,y)}[p(x|z,y)\,p(z)/q(z|x,y)]`,
as in lecture 01. The prior does not depend on y, so z must hold what y
does not say (the style: slant, stroke width, size), and a new image of a
chosen class is :math:`x \sim p(x \mid z, y)` with :math:`z \sim \mathcal N(0, I)`.

Both networks read the label, as the one-hot code :math:`c = e_y` of
:mod:`numvae.conditional`. The decoder needs it to draw the class asked for;
once it has it, whatever z says about the class is redundant and costs KL,
so z comes to hold the style. The encoder needs it because the posterior it
approximates, p(z|x,y), depends on y: the style that explains an ambiguous
image as a 4 is not the one that explains it as a 9, and the encoder must
know which class the decoder will be told (an encoder blind to y would have
to learn to classify x first).

Data flow of one training step (shapes for a batch of ``batch`` examples)::

    y (batch,) --one_hot--> c (batch, K)
    [x | c] (batch, input_dim + K) --encoder--> [mu | log_var] (batch, 2 latent_dim)
      --reparameterize(eps)--> z (batch, latent_dim)
    [z | c] (batch, latent_dim + K) --decoder--> out (batch, input_dim) --likelihood--> loss

``backward`` is :meth:`numvae.VAE.backward` with one step more: the decoder's
input gradient is split by :func:`numvae.conditional.join_backward`, and only
z's share goes on (c is data). The loss is a one-sample estimate of
−log p(x|y); add log K for a bound on −log p(x, y) = −log p(x|y) − log p(y)
with a uniform p(y) = 1/K, comparable with a VAE's −log p(x) only then.
References: Sohn, Lee & Yan, NeurIPS 2015 (the CVAE); Kingma, Rezende, Mohamed
& Welling, NeurIPS 2014, eq. (6) (the same bound, M2's labelled term).
"""

import numbers

import numpy as np

from . import gaussian
from .conditional import join, join_backward, one_hot
from .util import checks
from .vae import LossTerms, VAE


class CVAE(VAE):
    r"""A conditional VAE: :class:`numvae.VAE` with a class label joined to the encoder's and the decoder's inputs.

    Every method that reads x or z also takes the labels y, one integer in
    0 .. n_classes − 1 per row. The parameters are a VAE's, with the first
    weight matrix of each network ``n_classes`` rows taller: ``encoder.0.W``
    is (input_dim + K, ...), ``decoder.0.W`` (latent_dim + K, ...); row
    ``input_dim + y`` (or ``latent_dim + y``) is the label y's contribution.

    Parameters
    ----------
    input_dim : int
    n_classes : int, default 10
        K, the number of classes.
    hidden_dims, latent_dim, likelihood, activation, beta, sigma, learn_sigma, dtype, seed
        As for :class:`numvae.VAE`, with its defaults.
    """

    def __init__(self, input_dim, n_classes=10, hidden_dims=(256, 256, 256), latent_dim=2, likelihood="bernoulli",
                 activation="relu", beta=1.0, sigma=None, learn_sigma=False, dtype=np.float64, seed=0):
        self.n_classes = checks.positive_int("n_classes", n_classes)  # read by VAE.__init__ for the networks' widths
        super().__init__(input_dim, hidden_dims, latent_dim, likelihood, activation, beta, sigma, learn_sigma, dtype,
                         seed)

    def config(self):
        """The constructor arguments, as a dict (enough to rebuild the model)."""
        return {**super().config(), "n_classes": self.n_classes}

    # ------------------------------------------------------------------
    # Forward pieces (no cache: safe to call between loss() and backward())
    # ------------------------------------------------------------------

    def _code(self, y, batch_size):
        """The one-hot code of checked labels ``y``: (batch, n_classes), the model's dtype."""
        return one_hot(checks.labels("y", y, self.n_classes, batch_size), self.n_classes, self.dtype)

    def encode(self, x, y):
        """q(z|x,y): returns ``mu, log_var``, each (batch, latent_dim). ``y`` (batch,) labels."""
        x = self._check_x(x)
        h = self.encoder.forward(join(x, self._code(y, len(x))), keep_cache=False)  # (batch, 2 latent_dim)
        return h[:, : self.latent_dim], h[:, self.latent_dim :]

    def decode(self, z, y):
        """E[x|z,y], shape (batch, input_dim): Bernoulli probabilities or the Gaussian mean."""
        z = checks.batch("z", z, self.latent_dim, self.dtype)
        return self.likelihood.mean(self.decoder.forward(join(z, self._code(y, len(z))), keep_cache=False))

    def decode_every_class(self, z):
        """Each row of ``z`` (n, latent_dim) decoded as every class: shape (n_classes, n, input_dim).

        Row k holds the images of class k; column j those of ``z[j]``, one
        style in every class (the class × style grid).
        """
        z = checks.batch("z", z, self.latent_dim, self.dtype)
        labels = np.repeat(np.arange(self.n_classes), len(z))  # 0 0 ... 1 1 ... : class-major
        return self.decode(np.tile(z, (self.n_classes, 1)), labels).reshape(self.n_classes, len(z), -1)

    def reconstruct(self, x, y):
        """Decode the posterior mean: ``decode(mu(x, y), y)``, shape (batch, input_dim)."""
        mu, _ = self.encode(x, y)
        return self.decode(mu, y)

    def sample(self, labels, rng=None):
        """Decode one draw z ~ N(0, I) for each label: shape (len(labels), input_dim).

        ``labels`` are the classes to draw, e.g. ``[7] * 16``; an int n draws
        n images of the classes 0, 1, ..., K − 1, 0, 1, ... in turn. ``rng``
        (a ``numpy.random.Generator``) defaults to the model's own.
        """
        if isinstance(labels, numbers.Integral) and not isinstance(labels, bool):
            labels = np.arange(checks.positive_int("labels", labels)) % self.n_classes
        labels = checks.labels("labels", labels, self.n_classes)
        rng = self.rng if rng is None else checks.generator("rng", rng)
        return self.decode(rng.standard_normal((len(labels), self.latent_dim)).astype(self.dtype, copy=False), labels)

    def log_px_given_z(self, x, y, z):
        """log p(x|z,y) for each row, shape (batch,)."""
        x = self._check_x(x)
        z = checks.batch("z", z, self.latent_dim, self.dtype)
        if len(z) != len(x):
            raise ValueError(f"z: expected {len(x)} rows, one per row of x, got {len(z)}")
        out = self.decoder.forward(join(z, self._code(y, len(x))), keep_cache=False)
        return -self.likelihood.nll(x, out, keep_cache=False)

    def _forward(self, x, c, eps, keep_cache):
        """One pass; per-example reconstruction and KL, each (batch,). ``c`` (batch, n_classes) one-hot."""
        h = self.encoder.forward(join(x, c), keep_cache)  # (batch, 2 latent_dim)
        mu, log_var = h[:, : self.latent_dim], h[:, self.latent_dim :]  # each (batch, latent_dim)
        z, std = gaussian.reparameterize(mu, log_var, eps)  # (batch, latent_dim)
        out = self.decoder.forward(join(z, c), keep_cache)  # (batch, input_dim): logits or mean
        reconstruction = self.likelihood.nll(x, out, keep_cache)  # (batch,)
        kl = gaussian.kl_standard_normal(mu, log_var)  # (batch,)
        if keep_cache:
            self._cache = (mu, log_var, eps, std)
        return reconstruction, kl

    def per_example_terms(self, x, y, eps=None):
        """Reconstruction −log p(x|z,y) and KL for each example, each (batch,); nothing is cached."""
        x = self._check_x(x)
        return self._forward(x, self._code(y, len(x)), self._draw_eps(len(x), eps), keep_cache=False)

    # ------------------------------------------------------------------
    # Training: loss() then backward()
    # ------------------------------------------------------------------

    def loss(self, x, y, eps=None):
        """Forward pass of one training step; caches what ``backward`` needs.

        Parameters
        ----------
        x : array, shape (batch, input_dim)
        y : array of int, shape (batch,), labels in 0 .. n_classes − 1
        eps : array, shape (batch, latent_dim), optional
            The noise of the reparameterization; drawn from ``self.rng`` when None.

        Returns
        -------
        LossTerms
            ``loss = reconstruction + beta * kl``, batch means in nats per
            example; for β = 1 an estimate of −ELBO ≥ −log p(x|y).
        """
        self._cache = None  # if this forward fails, backward() must not reuse an old batch
        x = self._check_x(x)
        reconstruction, kl = self._forward(x, self._code(y, len(x)), self._draw_eps(len(x), eps), keep_cache=True)
        rec, kl_mean = float(np.mean(reconstruction)), float(np.mean(kl))
        return LossTerms(rec + self.beta * kl_mean, rec, kl_mean)

    def _decoder_backward(self, d_out):
        r"""The decoder's backward, then the split of its input gradient :math:`\partial L / \partial [z \mid c]`.

        z's columns go on to the sampler (the rest of :meth:`numvae.VAE.backward`
        is the VAE's, step for step); c's stop here: c is data.
        """
        d_z, _ = join_backward(self.decoder.backward(d_out), self.latent_dim)  # (batch, latent_dim)
        return d_z
