r"""Posterior collapse, measured and resisted: the KL of each latent unit, active units, free bits.

The encoder's :math:`q_\phi(z|x) = \mathcal N(\mu, \mathrm{diag}\,\sigma^2)` factorises
over the J latent units, and so does its KL to the prior
:math:`p(z) = \mathcal N(0, I)`:

.. math::
    D_{KL}\big(q_\phi(z|x) \,\|\, p(z)\big) = \sum_{j=1}^{J} \mathrm{KL}_j(x), \qquad
    \mathrm{KL}_j(x) = \tfrac12\big(\mu_j^2 + \sigma_j^2 - \log\sigma_j^2 - 1\big).

A unit whose posterior is the prior for every x (:math:`\mathrm{KL}_j = 0`)
carries no information about x: it has *collapsed*. Two measures of it:

* the KL of each unit, averaged over images (:func:`kl_per_unit`);
* Burda et al.'s **activity** :math:`A_j = \mathrm{Cov}_x\big(\mathbb E_{q(z|x)}[z_j]\big)
  = \mathrm{Var}_x\,\mu_j(x)`, a unit being *active* when :math:`A_j > 10^{-2}`
  (Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders",
  arXiv:1509.00519) (:func:`activity`).

And one remedy, **free bits** (Kingma, Salimans, Jozefowicz, Chen, Sutskever &
Welling, "Improved Variational Inference with Inverse Autoregressive Flow",
arXiv:1606.04934, appendix C): the KL term of the loss is replaced by

.. math::
    \sum_{j=1}^{J} \max\big(\lambda,\ \overline{\mathrm{KL}}_j\big), \qquad
    \overline{\mathrm{KL}}_j = \frac1B \sum_{n=1}^{B} \mathrm{KL}_j(x_n),

the KL of each unit averaged over the minibatch and floored at λ nats.
Below λ a unit's KL costs nothing more, so the optimiser gains nothing by
pushing it to zero; above λ it is charged as usual (:func:`free_bits`,
:func:`free_bits_backward`). It is a training objective, not a bound: the
ELBO is still reported with the true KL.
"""

import numpy as np

from .gaussian import kl_standard_normal

ACTIVE_THRESHOLD = 1e-2  # Burda et al.'s threshold on A_j


def unit_kl(mu, log_var):
    r""":math:`\mathrm{KL}_j(x_n)` of each example and unit, shape (batch, latent_dim).

    Each unit is a one-dimensional Gaussian, so its KL is
    :func:`numvae.gaussian.kl_standard_normal` of that unit alone: giving
    every unit its own last axis of length 1 makes that function's sum over
    the last axis a sum of one term. Summed over units, this is
    ``kl_standard_normal(mu, log_var)``.

    Parameters
    ----------
    mu, log_var : ndarray, shape (batch, latent_dim)
    """
    return kl_standard_normal(mu[..., None], log_var[..., None])  # (batch, latent_dim)


def kl_per_unit(mu, log_var):
    """The KL of each unit averaged over the examples, shape (latent_dim,), in nats per example."""
    return unit_kl(np.asarray(mu, dtype=np.float64), np.asarray(log_var, dtype=np.float64)).mean(axis=0)


def activity(mu):
    r"""Burda et al.'s :math:`A_j = \mathrm{Var}_x\,\mu_j(x)`, shape (latent_dim,), over the rows of ``mu`` (batch, latent_dim)."""
    return np.asarray(mu, dtype=np.float64).var(axis=0)


def active_units(mu, threshold=ACTIVE_THRESHOLD):
    """How many units have activity above ``threshold`` (default 0.01, Burda et al.'s)."""
    return int(np.sum(activity(mu) > threshold))


# --------------------------------------------------------------------------
# Free bits: Σ_j max(λ, mean_n KL_nj), and its gradient
# --------------------------------------------------------------------------


def free_bits(kl_units, free_nats):
    r"""The free-bits KL term :math:`\sum_j \max(\lambda, \overline{\mathrm{KL}}_j)`, a float.

    Parameters
    ----------
    kl_units : ndarray, shape (batch, latent_dim)
        :math:`\mathrm{KL}_j(x_n)`, from :func:`unit_kl`.
    free_nats : float >= 0
        λ, in nats per unit. With λ = 0 this is the batch mean of the KL
        (each :math:`\overline{\mathrm{KL}}_j \ge 0`).
    """
    return float(np.sum(np.maximum(free_nats, kl_units.mean(axis=0))))


def free_bits_backward(d_out, kl_units, free_nats):
    r"""Gradient of :func:`free_bits` with respect to each :math:`\mathrm{KL}_j(x_n)`, scaled by ``d_out``.

    .. math::
        \frac{\partial}{\partial\, \mathrm{KL}_j(x_n)} \sum_i \max(\lambda, \overline{\mathrm{KL}}_i)
        = \frac1B\, [\overline{\mathrm{KL}}_j > \lambda]:

    :math:`\max(\lambda, u)` has slope 1 above λ and 0 below, and
    :math:`\partial \overline{\mathrm{KL}}_j / \partial \mathrm{KL}_j(x_n) = 1/B`.
    A unit under its λ nats gets no gradient from the KL at all; only the
    reconstruction term moves it. (At :math:`\overline{\mathrm{KL}}_j = \lambda`
    exactly, where max has no derivative, 0 is taken.)

    Parameters
    ----------
    d_out : float
        ∂loss/∂(the free-bits term), e.g. β.
    kl_units : ndarray, shape (batch, latent_dim)
    free_nats : float

    Returns
    -------
    d_kl_units : ndarray, shape (batch, latent_dim)
    """
    batch = kl_units.shape[0]
    above = kl_units.mean(axis=0) > free_nats  # (latent_dim,)
    return np.broadcast_to(d_out / batch * above, kl_units.shape).astype(kl_units.dtype)
