r"""M2, the semi-supervised VAE: the label as a second latent variable, observed for a few images.

Kingma, Rezende, Mohamed & Welling, "Semi-Supervised Learning with Deep
Generative Models", NeurIPS 2014 (arXiv:1406.5298), section 2.2. The
generative model draws a class and a style, then the image:

.. math::
    y \sim p(y) = \tfrac1K \ (\text{uniform}), \qquad z \sim \mathcal N(0, I), \qquad
    x \sim p_\theta(x \mid y, z) \ (\text{a decoder fed } [z \mid \mathrm{onehot}(y)]).

For a labelled image, y is observed and only z is inferred, by
q_φ(z|x,y) = N(mu, diag exp(log_var)) (an encoder fed [x | onehot(y)]). For an
unlabelled image, y is latent too, inferred by a classifier q_φ(y|x) = softmax
of an MLP's logits (φ: both inference networks' parameters, θ: the decoder's,
as the paper writes them). Since y carries the class, z is left to hold what the
label does not say: slant, width, stroke — the style.

**The losses** (numvae minimises; the paper's bounds are their negatives):

.. math::
    L(x, y) = \mathbb E_{q_\phi(z|x,y)}[-\log p_\theta(x \mid y, z)] + D_{KL}(q_\phi(z|x,y) \,\|\, p(z)) + \log K
    \;\ge\; -\log p(x, y),

the −ELBO of the pair (the :math:`\log K = -\log p(y)`), and for an unlabelled x

.. math::
    u(x) = \sum_y q(y|x)\, L(x, y) - H(q(y|x)) \;\ge\; -\log p(x),

the negative of the paper's :math:`\mathcal U`-bound (eq. 7):
:math:`-u(x) = \sum_y q(y|x)(-L(x,y)) + H(q(y|x)) \le \log p(x)`. The
training loss of a batch is

.. math::
    J = \operatorname{mean}_{\text{labelled}} L(x, y)
      + \alpha \operatorname{mean}_{\text{labelled}} [-\log q(y|x)]
      + \operatorname{mean}_{\text{unlabelled}} u(x),

where the cross-entropy term (eq. 9) is there because nothing else trains
the classifier on the labels: L(x, y) does not contain q(y|x).

**Computing u.** Each unlabelled image is paired with every class: the K
rows :math:`[x \mid e_1], \dots, [x \mid e_K]` go through the encoder and the
decoder with the labelled rows, in one batch, each with its own ε.
"""

from typing import NamedTuple

import numpy as np

from . import categorical, gaussian, likelihoods
from .activations import ACTIVATIONS
from .layers import MLP
from .util import checks
from .vae import LIKELIHOODS, encoder_gradient

# --------------------------------------------------------------------------
# The unlabelled loss from the per-class losses: u = Σ_y q(y|x) L(x, y) − H(q)
# --------------------------------------------------------------------------


def unlabelled_loss(losses, logits):
    r"""Per-example :math:`u(x) = \sum_y q_y L_y - H(q) = \sum_y q_y (L_y + \log q_y)`, q = softmax(logits).

    Why it bounds :math:`-\log p(x)`: with :math:`\log \tilde p_y = -L_y \le \log p(x, y)`,
    :math:`u = \sum_y q_y (\log q_y - \log \tilde p_y) = D_{KL}(q \,\|\, \tilde p / Z) - \log Z`
    with :math:`Z = \sum_y \tilde p_y \le \sum_y p(x, y) = p(x)`, and a KL is
    ≥ 0, so :math:`u \ge -\log Z \ge -\log p(x)`. The best classifier is
    :math:`q_y \propto e^{-L_y}`: the posterior over classes the bounds imply.

    Parameters
    ----------
    losses : ndarray, shape (batch, n_classes)
        :math:`L(x, y)` for every class y.
    logits : ndarray, shape (batch, n_classes)
        The classifier's.

    Returns
    -------
    u : ndarray, shape (batch,), in nats.
    """
    q = categorical.softmax(logits)
    return np.sum(q * losses, axis=-1) - categorical.entropy(logits)


def unlabelled_loss_backward(d_u, losses, logits):
    r"""Gradients of :func:`unlabelled_loss` with respect to the per-class losses and the logits.

    The losses enter linearly: :math:`\partial u / \partial L_y = q_y`, so each
    class's bound is trained with weight :math:`q(y|x)`.

    The logits enter through q twice, in :math:`\sum_y q_y L_y` (by
    :func:`~numvae.categorical.softmax_backward` with :math:`\bar q = L`) and
    in :math:`-H` (by :func:`~numvae.categorical.entropy_backward` with
    :math:`\bar H = -1`):

    .. math::
        \frac{\partial u}{\partial l_k}
        = q_k\Big(L_k - \sum_y q_y L_y\Big) + q_k(\log q_k + H)
        = q_k\big(L_k + \log q_k - u\big).

    So the classifier raises the logit of a class whose :math:`L_k + \log q_k`
    is below the average u (a class that explains x better than the classifier
    believes), and lowers the others; it stops at :math:`q_k \propto e^{-L_k}`.
    This is how the unlabelled images reach the classifier.

    Parameters
    ----------
    d_u : ndarray, shape (batch,), or a scalar
    losses, logits : ndarray, shape (batch, n_classes)

    Returns
    -------
    d_losses : ndarray, shape (batch, n_classes)
    d_logits : ndarray, shape (batch, n_classes)
    """
    d_u_column = np.reshape(d_u, (-1, 1)) if np.ndim(d_u) else d_u  # (batch, 1)
    q = categorical.softmax(logits)
    d_logits = categorical.softmax_backward(d_u_column * losses, q) + categorical.entropy_backward(-d_u, logits)
    return d_u_column * q, d_logits


# --------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------


class M2Terms(NamedTuple):
    """Batch means in nats per example: ``loss = labelled + alpha * classification + unlabelled``."""

    loss: float
    labelled: float  # mean L(x, y) over the labelled rows
    classification: float  # mean −log q(y|x) over the labelled rows
    unlabelled: float  # mean u(x) over the unlabelled rows


class M2:
    r"""M2 with MLPs for q(y|x), q(z|x,y) and p(x|y,z), trained by hand-written backprop.

    Parameters
    ----------
    input_dim : int
        Size of x (784 for images, 50 for the codes of M1+M2).
    n_classes : int, default 10
    hidden_dims : sequence of int, default (256,)
        Hidden layers of the classifier and the encoder; the decoder mirrors them.
    latent_dim : int, default 50
    likelihood : {"bernoulli", "gaussian"}, default "bernoulli"
    activation : str, default "relu"
    alpha : float >= 0, default 1
        Weight α of the labelled cross-entropy.
    sigma : float > 0, optional
        Gaussian likelihood only: σ (default 1), or its initial value if ``learn_sigma``.
    learn_sigma : bool, default False
        Gaussian likelihood only: a learned per-feature log σ², ``"decoder.log_var"``.
    dtype : float32 or float64, default float64
    seed : int, default 0
        Seeds the model's Generator: initial weights, and ε when none is given.
    """

    def __init__(self, input_dim, n_classes=10, hidden_dims=(256,), latent_dim=50, likelihood="bernoulli",
                 activation="relu", alpha=1.0, sigma=None, learn_sigma=False, dtype=np.float64, seed=0):
        self.input_dim = checks.positive_int("input_dim", input_dim)
        self.n_classes = checks.positive_int("n_classes", n_classes)
        if self.n_classes < 2:
            raise ValueError(f"n_classes: expected at least 2 classes, got {n_classes!r}")
        self.hidden_dims = checks.positive_ints("hidden_dims", hidden_dims)
        self.latent_dim = checks.positive_int("latent_dim", latent_dim)
        self.likelihood_name = checks.choice("likelihood", likelihood, LIKELIHOODS)
        self.activation = checks.choice("activation", activation, tuple(ACTIVATIONS))
        self.alpha = checks.real("alpha", alpha, minimum=0)
        learn_sigma = checks.boolean("learn_sigma", learn_sigma)
        if likelihood == "bernoulli" and (sigma is not None or learn_sigma):
            raise ValueError(f"sigma: only used with likelihood='gaussian', got sigma={sigma!r}, "
                             f"learn_sigma={learn_sigma!r} with likelihood='bernoulli'")
        sigma = 1.0 if sigma is None else checks.real("sigma", sigma, minimum=0, strict=True)
        self.dtype = checks.floating_dtype("dtype", dtype, allowed=("float32", "float64"))
        self.rng = np.random.default_rng(checks.non_negative_int("seed", seed))

        hidden, k, j = self.hidden_dims, self.n_classes, self.latent_dim
        self.classifier = MLP((self.input_dim, *hidden, k), self.activation, self.rng, self.dtype)
        self.encoder = MLP((self.input_dim + k, *hidden, 2 * j), self.activation, self.rng, self.dtype)
        self.decoder = MLP((j + k, *reversed(hidden), self.input_dim), self.activation, self.rng, self.dtype)
        if self.likelihood_name == "bernoulli":
            self.likelihood = likelihoods.Bernoulli()
        else:
            self.likelihood = likelihoods.Gaussian(sigma, self.input_dim, learn_sigma, self.dtype)
        self.log_k = self.dtype.type(np.log(k))  # −log p(y), the uniform prior's share of L(x, y)
        self._cache = None

    def parameters(self):
        """Name -> live array: classifier, encoder, decoder layers, then ``"decoder.log_var"`` if σ is learned."""
        return {**self.classifier.parameters("classifier"), **self.encoder.parameters("encoder"),
                **self.decoder.parameters("decoder"),
                **{f"decoder.{key}": value for key, value in self.likelihood.params.items()}}

    # -- checks at the door ---------------------------------------------------

    def _check_x(self, name, x):
        return checks.batch(name, x, self.input_dim, self.dtype, unit_interval=self.likelihood_name == "bernoulli")

    def _check_y(self, y, batch_size):
        y = np.asarray(y)
        if y.shape != (batch_size,) or not np.issubdtype(y.dtype, np.integer) or np.any((y < 0) | (y >= self.n_classes)):
            raise ValueError(f"y: expected {batch_size} integer labels in 0..{self.n_classes - 1}, "
                             f"got {'shape ' + str(y.shape) if y.shape != (batch_size,) else y.dtype.name + ' values'}")
        return y

    def _check_eps(self, name, eps, shape):
        if eps is None:
            return self.rng.standard_normal(shape).astype(self.dtype, copy=False)
        if np.shape(eps) != shape:
            raise ValueError(f"{name}: expected shape {shape}, got {np.shape(eps)}")
        return np.asarray(eps, dtype=self.dtype)

    # -- inference --------------------------------------------------------------

    def classify(self, x):
        """q(y|x): class probabilities, shape (batch, n_classes)."""
        return categorical.softmax(self.classifier.forward(self._check_x("x", x), keep_cache=False))

    def predict(self, x):
        """The most probable class under q(y|x), shape (batch,)."""
        return np.argmax(self.classify(x), axis=1)

    # -- training: loss() then backward() ---------------------------------------

    def loss(self, x_labelled, y_labelled, x_unlabelled, eps_labelled=None, eps_unlabelled=None):
        """Forward pass of one training step; caches what ``backward`` needs.

        Parameters
        ----------
        x_labelled : array, shape (n_labelled, input_dim)
        y_labelled : array of int, shape (n_labelled,)
        x_unlabelled : array, shape (n_unlabelled, input_dim)
        eps_labelled : array, shape (n_labelled, latent_dim), optional
        eps_unlabelled : array, shape (n_unlabelled, n_classes, latent_dim), optional
            One ε for every (image, class) pair. Drawn from ``self.rng`` when None.

        Returns
        -------
        M2Terms
        """
        self._cache = None
        x_l, x_u = self._check_x("x_labelled", x_labelled), self._check_x("x_unlabelled", x_unlabelled)
        y_l = self._check_y(y_labelled, len(x_l))
        n_l, n_u, k, j = len(x_l), len(x_u), self.n_classes, self.latent_dim
        eps_l = self._check_eps("eps_labelled", eps_labelled, (n_l, j))
        eps_u = self._check_eps("eps_unlabelled", eps_unlabelled, (n_u, k, j))

        # 1. L(x, y) for every row: the labelled pairs, then each unlabelled x with every class.
        t_l = categorical.one_hot(y_l, k, self.dtype)  # (n_l, k)
        x_rows = np.concatenate([x_l, np.repeat(x_u, k, axis=0)])  # (n_l + n_u k, input_dim)
        y_rows = np.concatenate([t_l, np.tile(np.eye(k, dtype=self.dtype), (n_u, 1))])  # (rows, k)
        eps = np.concatenate([eps_l, eps_u.reshape(n_u * k, j)])  # (rows, latent_dim)
        h = self.encoder.forward(np.concatenate([x_rows, y_rows], axis=1))  # (rows, 2 latent_dim)
        mu, log_var = h[:, :j], h[:, j:]  # q(z|x,y), each (rows, latent_dim)
        z, std = gaussian.reparameterize(mu, log_var, eps)  # (rows, latent_dim)
        out = self.decoder.forward(np.concatenate([z, y_rows], axis=1))  # (rows, input_dim)
        bound = self.likelihood.nll(x_rows, out) + gaussian.kl_standard_normal(mu, log_var) + self.log_k  # (rows,)
        losses_u = bound[n_l:].reshape(n_u, k)  # (n_u, k): L(x, y) for every class

        # 2. The classifier on all images: cross-entropy on the labelled, u(x) on the others.
        logits = self.classifier.forward(np.concatenate([x_l, x_u]))  # (n_l + n_u, k)
        ce = categorical.cross_entropy(logits[:n_l], t_l)  # (n_l,)
        u = unlabelled_loss(losses_u, logits[n_l:])  # (n_u,)

        self._cache = (mu, log_var, eps, std, t_l, losses_u, logits)
        labelled, classification, unlabelled = (float(np.mean(a)) for a in (bound[:n_l], ce, u))
        return M2Terms(labelled + self.alpha * classification + unlabelled, labelled, classification, unlabelled)

    def backward(self):
        r"""Gradients of the last ``loss()`` with respect to every parameter.

        Each row's bound gets the upstream gradient :math:`1/n_l` (labelled) or
        :math:`q(y|x)/n_u` (an unlabelled x paired with class y, from
        :func:`unlabelled_loss_backward`); from there the path is the VAE's,
        row by row (likelihood, decoder, sampler and KL, encoder). The
        decoder's input gradient is split back: its first ``latent_dim``
        columns are :math:`\partial J / \partial z`, the one-hot's are dropped.
        The classifier gets :math:`\alpha (q - t)/n_l` from the labelled rows
        and the softmax-and-entropy gradient of u from the unlabelled ones.

        Returns
        -------
        dict
            Same keys, order and shapes as ``parameters()``.
        """
        if self._cache is None:
            raise RuntimeError("backward() called before loss(): compute the loss on a batch first")
        mu, log_var, eps, std, t_l, losses_u, logits = self._cache
        n_l, (n_u, k) = len(t_l), losses_u.shape
        d_losses_u, d_logits_u = unlabelled_loss_backward(self.dtype.type(1 / n_u), losses_u, logits[n_l:])
        d_bound = np.concatenate([np.full(n_l, 1 / n_l, dtype=self.dtype), d_losses_u.reshape(n_u * k)])
        d_logits_l = categorical.cross_entropy_backward(self.dtype.type(self.alpha / n_l), logits[:n_l], t_l)

        d_out = self.likelihood.backward(d_bound)  # (rows, input_dim)
        d_z = self.decoder.backward(d_out)[:, : self.latent_dim]  # (rows, latent_dim): the one-hot columns dropped
        d_mu_z, d_log_var_z = gaussian.reparameterize_backward(d_z, eps, std)
        d_mu_kl, d_log_var_kl = gaussian.kl_standard_normal_backward(d_bound, mu, log_var)
        self.encoder.backward(encoder_gradient(d_mu_z, d_log_var_z, d_mu_kl, d_log_var_kl), need_d_x=False)
        self.classifier.backward(np.concatenate([d_logits_l, d_logits_u]), need_d_x=False)
        return {**self.classifier.gradients("classifier"), **self.encoder.gradients("encoder"),
                **self.decoder.gradients("decoder"),
                **{f"decoder.{key}": value for key, value in self.likelihood.grads.items()}}
