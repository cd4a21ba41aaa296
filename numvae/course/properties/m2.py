r"""Properties of M2's unlabelled loss (``numvae.m2``) and of the whole model's gradient.

``unlabelled_loss(losses, logits)`` is :math:`u(x) = \sum_y q(y|x) L(x, y) - H(q(y|x))`,
numvae's loss form of Kingma et al.'s :math:`\mathcal U`-bound: :math:`-u(x) \le \log p(x)`.

Two properties pin its value where the answer is known without it:

* **One-hot q.** When q(y|x) puts all its mass on one class y, :math:`H = 0`
  and the sum has one term: :math:`u(x) = L(x, y)`, the labelled loss.
* **A model where log p(x) is exact.** The linear-Gaussian model with a label
  (:func:`numvae.linear_gaussian.labelled_log_evidence`): :math:`y` uniform
  over K classes, :math:`z \sim \mathcal N(0, I_J)`,
  :math:`x \mid y, z \sim \mathcal N(Wz + b_y, \sigma^2 I_D)`, so
  :math:`\log p(x) = \operatorname{logsumexp}_y \log \mathcal N(x; b_y, WW^\top + \sigma^2 I) - \log K`.
  With the exact per-class losses :math:`L(x, y)` of any diagonal
  :math:`q(z|x,y)` (:func:`numvae.linear_gaussian.labelled_losses`) and any
  logits, :math:`u(x) \ge -\log p(x)`. When W's columns are orthogonal (the
  posterior of z is then diagonal), :math:`q(z|x,y)` is the exact posterior and
  :math:`q(y|x) = p(y|x)`, the two are equal: the bound is tight.
"""

import numpy as np

from ... import linear_gaussian
from .core import Property, PropertyFailure, call, call_twice, expect_close, expect_shape, gradients_match


def unlabelled_gradients(impl, batch, n_classes):
    rng = np.random.default_rng(13 * batch + n_classes)
    losses = 50 + 10 * rng.standard_normal((batch, n_classes))
    logits = 2 * rng.standard_normal((batch, n_classes))
    d_u = rng.standard_normal(batch)
    expect_shape("unlabelled_loss", call_twice(impl, "unlabelled_loss", losses, logits), (batch,))
    d_losses, d_logits = call(impl, "unlabelled_loss_backward", d_u, losses, logits)

    def f():
        return float(np.sum(d_u * call(impl, "unlabelled_loss", losses, logits)))

    gradients_match(f, {"losses": losses, "logits": logits}, {"losses": d_losses, "logits": d_logits},
                    hints={-1.0: "the sign is flipped: u = Σ q L − H"})


def one_hot_q_gives_the_labelled_loss(impl, n_classes, label):
    rng = np.random.default_rng(n_classes + label)
    losses = 80 + 20 * rng.standard_normal((1, n_classes))
    logits = np.full((1, n_classes), -1e3)
    logits[0, label] = 1e3  # q(y|x) one-hot on `label`, exactly, in float64
    expect_close(f"u(x) with q one-hot on class {label}", call(impl, "unlabelled_loss", losses, logits),
                 losses[:, label], 1e-14, 0,
                 hint="u = Σ_y q(y|x) L(x, y) − H(q): with q one-hot on y the sum is L(x, y) and H = 0")


def _labelled_linear_gaussian(seed, orthogonal):
    """x, W, B, σ of a small linear-Gaussian model with K = 3 classes (D = 4, J = 2)."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((4, 2))
    if orthogonal:  # orthogonal columns: the posterior of z is diagonal
        W = np.linalg.qr(W)[0] * np.array([1.5, 0.7])
    B = 2 * rng.standard_normal((3, 4))
    y = rng.integers(0, 3)
    x = B[y] + W @ rng.standard_normal(2) + 0.5 * rng.standard_normal(4)
    return x, W, B, 0.5


def bound_below_the_exact_evidence(impl, seed):
    x, W, B, sigma = _labelled_linear_gaussian(seed, orthogonal=False)
    rng = np.random.default_rng(seed + 1)
    log_px = linear_gaussian.labelled_log_evidence(x, W, B, sigma)
    for _ in range(20):  # any q(z|x,y) (diagonal) and any q(y|x)
        M, S = rng.standard_normal((3, 2)), rng.uniform(-2, 1, (3, 2))
        losses = linear_gaussian.labelled_losses(x, W, B, sigma, M, S)[None]  # (1, 3)
        u = float(np.reshape(call(impl, "unlabelled_loss", losses, 3 * rng.standard_normal((1, 3))), -1)[0])
        if not -u <= log_px + 1e-12:
            raise PropertyFailure(f"−u(x) = {-u:.10g} exceeds the exact log p(x) = {log_px:.10g}",
                                  {"x": x, "losses": losses}, hint="u = Σ q L − H: the entropy enters with a minus")


def bound_tight_at_the_exact_posteriors(impl, seed):
    x, W, B, sigma = _labelled_linear_gaussian(seed, orthogonal=True)
    best = [linear_gaussian.best_diagonal(x, W, b, sigma) for b in B]  # exact: the posterior is diagonal
    M, S = np.array([m for m, _ in best]), np.array([s for _, s in best])
    losses = linear_gaussian.labelled_losses(x, W, B, sigma, M, S)  # (3,): −log p(x, y), exactly
    logits = -losses[None]  # q(y|x) ∝ p(x, y): the exact posterior over classes
    q = np.exp(logits - np.max(logits))
    q /= q.sum()
    entropy = -float(np.sum(q * np.log(q)))

    def hint(got, expected):
        """Name the mistake the value shows: the entropy left out, or one class's bound in place of the sum."""
        if np.allclose(got, expected - entropy, rtol=1e-10, atol=1e-10):
            return "−u(x) is log p(x) − H(q(y|x)): the entropy term is missing (u = Σ q L − H)"
        if np.any(np.isclose(float(got[0]), -losses, rtol=1e-10, atol=1e-10)):
            return "−u(x) is one class's −L(x, y): u sums L(x, y) over every class, weighted by q(y|x)"
        return "at q(y|x) = p(y|x) and q(z|x,y) = p(z|x,y), −u(x) = log p(x) exactly"

    expect_close("−u(x) at the exact posteriors", -np.asarray(call(impl, "unlabelled_loss", losses[None], logits)),
                 [linear_gaussian.labelled_log_evidence(x, W, B, sigma)], 1e-10, 1e-10, hint=hint)


def model_gradients(impl, likelihood):
    """Every parameter of a small ``impl.M2`` against central differences of its ``loss``, ε replayed."""
    rng = np.random.default_rng(5)
    extra = {"learn_sigma": True, "sigma": 0.7} if likelihood == "gaussian" else {}
    model = impl.M2(6, n_classes=3, hidden_dims=(5,), latent_dim=2, likelihood=likelihood, alpha=0.7, seed=1,
                    **extra)
    x_l, x_u = rng.uniform(size=(4, 6)), rng.uniform(size=(3, 6))
    y_l = np.array([0, 2, 1, 2])
    eps_l, eps_u = rng.standard_normal((4, 2)), rng.standard_normal((3, 3, 2))
    model.loss(x_l, y_l, x_u, eps_l, eps_u)
    analytic = {name: g.copy() for name, g in model.backward().items()}
    return gradients_match(lambda: model.loss(x_l, y_l, x_u, eps_l, eps_u).loss, model.parameters(), analytic)


_SHAPES = ({"batch": 1, "n_classes": 2}, {"batch": 3, "n_classes": 4}, {"batch": 2, "n_classes": 10})

UNLABELLED_GRADIENTS = Property("unlabelled_loss_backward matches central differences", unlabelled_gradients,
                                cases=_SHAPES)
ONE_HOT_Q = Property("u(x) = L(x, y) when q(y|x) is one-hot on y", one_hot_q_gives_the_labelled_loss,
                     cases=({"n_classes": 2, "label": 1}, {"n_classes": 10, "label": 0}, {"n_classes": 10, "label": 7}))
BOUND_BELOW_EVIDENCE = Property("−u(x) <= log p(x) on the linear-Gaussian model with a label",
                                bound_below_the_exact_evidence, cases=tuple({"seed": s} for s in range(5)))
BOUND_TIGHT = Property("−u(x) = log p(x) at the exact posteriors", bound_tight_at_the_exact_posteriors,
                       cases=tuple({"seed": s} for s in range(3)))
MODEL_GRADIENTS = Property("M2's loss gradient matches central differences", model_gradients,
                           cases=({"likelihood": "bernoulli"}, {"likelihood": "gaussian"}))
