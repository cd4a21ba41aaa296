r"""Properties of training with the importance-weighted bound (:mod:`numvae.iwae`).

The gradient of :math:`\mathcal L_K` is built from three new derivatives and
the VAE's backward pass; each piece has its property, then the whole:

* ``log_normal_backward`` and ``log_standard_normal_backward`` (``impl`` is
  :mod:`numvae.gaussian`) match central differences, and through the sample
  :math:`z = \mu + \sigma\varepsilon` the derivatives of log q add up to
  (0, −½): :math:`\log q(\mu + \sigma\varepsilon) = -\tfrac12\sum_j(\log 2\pi + \log\sigma_j^2 + \varepsilon_j^2)`;
* ``iw_bound_backward`` (``impl`` is :mod:`numvae.evaluate`) matches central
  differences of ``iw_bound``, and ``normalized_weights`` sums to 1 without
  overflow;
* ``IWAE.backward`` (``impl`` is :mod:`numvae.iwae`) matches central
  differences of ``IWAE.loss`` with the noise fixed, its loss is the bound
  :mod:`numvae.evaluate` reports for the same noise, and at K = 1 it is the
  VAE with the KL replaced by its one-sample estimate (loss and gradient).
"""

import numpy as np

from . import strategies as S
from .core import Property, PropertyFailure, call, expect_close, expect_tuple, gradients_match

SIGN_HINTS = {-1.0: "the sign is flipped"}


def _gaussian_inputs(seed, shape, latent_dim):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((*shape, latent_dim))
    mu = rng.standard_normal((*shape[-1:], latent_dim))  # broadcast over the leading sample axis, if any
    log_var = rng.uniform(-2, 2, size=(*shape[-1:], latent_dim))
    return rng, z, mu, log_var


def log_normal_gradients(impl, shape, latent_dim):
    """Partial derivatives of Σ d·log N(z; mu, exp(log_var)) in z, mu and log_var (mu broadcast over samples)."""
    rng, z, mu, log_var = _gaussian_inputs(len(shape) + 10 * latent_dim, shape, latent_dim)
    d_log_q = rng.standard_normal(shape)  # one upstream factor per sample
    grads = expect_tuple("log_normal_backward", call(impl, "log_normal_backward", d_log_q, z, mu, log_var),
                         ("d_z", "d_mu", "d_log_var"))
    d_z, d_mu, d_log_var = (np.broadcast_to(g, z.shape) for g in grads)
    summed = tuple(range(len(shape) - 1))  # mu and log_var are shared by the samples of the leading axis

    def f():
        return float(np.sum(d_log_q * call(impl, "log_normal", z, mu, log_var)))

    gradients_match(f, {"z": z, "mu": mu, "log_var": log_var},
                    {"z": d_z, "mu": d_mu.sum(axis=summed), "log_var": d_log_var.sum(axis=summed)}, hints=SIGN_HINTS)
    d_prior = call(impl, "log_standard_normal_backward", d_log_q, z)
    gradients_match(lambda: float(np.sum(d_log_q * call(impl, "log_standard_normal", z))), {"z": z},
                    {"z": np.broadcast_to(d_prior, z.shape)}, hints=SIGN_HINTS)


def log_q_of_its_own_sample_depends_on_log_var_only(impl, latent_dim):
    r"""Through z = mu + std·eps the total derivative of log q(z) is 0 in mu and −½ in each log_var."""
    rng, _, mu, log_var = _gaussian_inputs(latent_dim, (3,), latent_dim)
    eps = rng.standard_normal(mu.shape)
    z, std = call(impl, "reparameterize", mu, log_var, eps)
    d_z, d_mu, d_log_var = call(impl, "log_normal_backward", 1.0, z, mu, log_var)
    path_mu, path_log_var = call(impl, "reparameterize_backward", d_z, eps, std)
    expect_close("d log q / d mu, both paths", path_mu + d_mu, np.zeros_like(mu), 0, 1e-12,
                 hint="the path through z (−(z − mu)/σ²) cancels the direct one ((z − mu)/σ²)")
    expect_close("d log q / d log_var, both paths", path_log_var + d_log_var, np.full_like(mu, -0.5), 0, 1e-12,
                 hint="log q(mu + σ·eps) = −½ Σ (log 2π + log_var + eps²)")


def iw_bound_gradients(impl, k, batch):
    rng = np.random.default_rng(k + 10 * batch)
    terms = {"log_px_z": rng.normal(-90, 5, (k, batch)), "log_pz": rng.normal(-30, 3, (k, batch)),
             "log_qz": rng.normal(20, 3, (k, batch))}
    d_bound = rng.standard_normal(batch)
    grads = expect_tuple("iw_bound_backward", call(impl, "iw_bound_backward", d_bound, *terms.values()),
                         ("d_log_px_z", "d_log_pz", "d_log_qz"))

    def f():
        return float(np.sum(d_bound * call(impl, "iw_bound", *terms.values())))

    gradients_match(f, terms, dict(zip(terms, grads)),
                    hints={float(k): "the 1/K of the mean cancels in the derivative of the log"})


def normalized_weights_sum_to_one(impl, log_w):
    weights = np.asarray(call(impl, "normalized_weights", log_w, axis=0))
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise PropertyFailure(f"normalised weights not finite and >= 0: {weights}",
                              hint="subtract the maximum log-weight before exponentiating")
    expect_close("Σ_k w̃_k", weights.sum(axis=0), np.ones(log_w.shape[1]), 1e-12, 0)
    expect_close("w̃ at log w + 700", call(impl, "normalized_weights", log_w + 700, axis=0), weights, 1e-9, 1e-300,
                 hint="the weights are a softmax: shifting every log w by one constant changes nothing")


def _tiny_iwae(impl, likelihood, k, seed=3):
    extra = dict(sigma=0.6, learn_sigma=True) if likelihood == "gaussian" else {}
    model = impl.IWAE(input_dim=6, hidden_dims=(5,), latent_dim=3, likelihood=likelihood, activation="tanh",
                      k=k, seed=seed, **extra)
    for p in model.parameters().values():  # biases are 0 at init: move them, or a wrong bias gradient hides
        p += 0.1 * np.random.default_rng(seed).standard_normal(p.shape)
    rng = np.random.default_rng(seed + 1)
    x = rng.uniform(size=(4, 6)) if likelihood == "bernoulli" else rng.normal(size=(4, 6))
    return model, x, rng


def iwae_gradients(impl, likelihood, k):
    """IWAE.backward against central differences of IWAE.loss, with the K samples' noise fixed."""
    model, x, rng = _tiny_iwae(impl, likelihood, k)
    eps = rng.standard_normal((k, len(x), model.latent_dim))
    model.loss(x, k, eps)
    analytic = {name: g.copy() for name, g in model.backward().items()}
    gradients_match(lambda: model.loss(x, k, eps).loss, model.parameters(), analytic)


def iwae_loss_is_the_evaluation_bound(impl, k):
    """IWAE.loss(x, k, eps) = −mean iw_bound(log_importance_terms(...)) for the eps that function draws."""
    from ...evaluate import iw_bound, log_importance_terms

    model, x, _ = _tiny_iwae(impl, "bernoulli", k)
    eps = np.random.default_rng(5).standard_normal((k, len(x), model.latent_dim))
    expected = -np.mean(iw_bound(*log_importance_terms(model, x, k, np.random.default_rng(5))))
    expect_close("IWAE.loss", model.loss(x, k, eps).loss, expected, 1e-12, 0)


def iwae_at_k1_is_the_vae_with_a_sampled_kl(impl, likelihood):
    r"""At K = 1: loss = VAE reconstruction + log q(z|x) − log p(z); θ-gradient = the VAE's;
    encoder gradient = the VAE's at β = 0 plus the one-sample KL's (z, ½(z σ ε − 1)) / batch."""
    from ...gaussian import log_normal, log_standard_normal
    from ...vae import VAE

    model, x, rng = _tiny_iwae(impl, likelihood, 1)
    batch_size, latent_dim = len(x), model.latent_dim
    eps = rng.standard_normal((batch_size, latent_dim))
    iwae_loss = model.loss(x, 1, eps[None]).loss
    iwae_grads = {name: g.copy() for name, g in model.backward().items()}

    vae_terms = VAE.loss(model, x, eps)  # the same networks through the VAE's loss and backward
    vae_grads = {name: g.copy() for name, g in VAE.backward(model).items()}
    mu, log_var = model.encode(x)
    z = mu + np.exp(0.5 * log_var) * eps
    sampled_kl = np.mean(log_normal(z, mu, log_var) - log_standard_normal(z))
    expect_close("IWAE.loss at K = 1", iwae_loss, vae_terms.reconstruction + sampled_kl, 1e-12, 0)
    for name in vae_grads:
        if name.startswith("decoder"):
            expect_close(f"d_{name} at K = 1", iwae_grads[name], vae_grads[name], 1e-10, 1e-13,
                         hint="the KL does not involve θ: the decoder's gradients are the VAE's")

    # The encoder's: swap the analytic KL's gradient (mu, ½(σ² − 1)) for the sampled one's (z, ½(z σ ε − 1)).
    std = np.exp(0.5 * log_var)
    sampled_minus_analytic = np.concatenate([z - mu, 0.5 * (z * std * eps - 1) - 0.5 * np.expm1(log_var)], axis=1)
    model.encoder.forward(x)
    model.encoder.backward(sampled_minus_analytic / batch_size, need_d_x=False)
    correction = model.encoder.gradients("encoder")
    for name, g in correction.items():
        expect_close(f"d_{name} at K = 1", iwae_grads[name], vae_grads[name] + g, 1e-9, 1e-12)


def _log_weights(st, hnp):
    shapes = st.tuples(st.integers(1, 8), st.integers(1, 3))
    return {"log_w": S.arrays(st, hnp, shapes, -800, 800)}


LOG_NORMAL_GRADIENTS = Property(
    "log_normal_backward matches central differences", log_normal_gradients,
    cases=tuple({"shape": s, "latent_dim": j} for s, j in (((1,), 1), ((4,), 3), ((3, 2), 2))))
LOG_Q_THROUGH_ITS_SAMPLE = Property(
    "log q(mu + std eps): d/d mu = 0, d/d log_var = −½", log_q_of_its_own_sample_depends_on_log_var_only,
    cases=({"latent_dim": 1}, {"latent_dim": 4}))
IW_BOUND_GRADIENTS = Property(
    "iw_bound_backward matches central differences", iw_bound_gradients,
    cases=tuple({"k": k, "batch": b} for k, b in ((1, 2), (5, 3), (50, 1))))
NORMALIZED_WEIGHTS = Property("normalised weights sum to 1, stably", normalized_weights_sum_to_one,
                              strategies=_log_weights)
IWAE_GRADIENTS = Property(
    "IWAE.backward matches central differences", iwae_gradients,
    cases=tuple({"likelihood": lik, "k": k} for lik in ("bernoulli", "gaussian") for k in (1, 2, 7)))
IWAE_LOSS_IS_THE_BOUND = Property("IWAE.loss is −L_K of numvae.evaluate", iwae_loss_is_the_evaluation_bound,
                                  cases=({"k": 1}, {"k": 6}))
IWAE_AT_K1 = Property(
    "IWAE at K = 1 is the VAE with a one-sample KL", iwae_at_k1_is_the_vae_with_a_sampled_kl,
    cases=({"likelihood": "bernoulli"}, {"likelihood": "gaussian"}))
