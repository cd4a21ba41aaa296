r"""Properties of the sampler ``reparameterize`` and the KL ``kl_standard_normal``.

The gradient checks prove each backward matches its forward; only the
statistical properties can prove the forward itself uses the right
parameterization (variance exp(log_var), not exp(log_var)²) and the right sign.
Statistical tolerances are 5 standard errors of the estimate (a two-sided
5-sigma band is exceeded with probability 5.7e-7 per comparison when the code
is right).
"""

import numpy as np

from . import strategies as S
from .core import (Property, PropertyFailure, call, call_twice, expect_close, expect_shape, expect_tuple,
                   gradients_match, same_values)

SAMPLER_HINTS = {("log_var", 2.0): "d_log_var is missing a ½: std = exp(½·log_var) brings one",
                 ("log_var", 0.5): "a ½ too many in d_log_var",
                 (None, -1.0): "the sign is flipped"}
KL_HINTS = {("log_var", 2.0): "d_log_var is missing a ½: the KL's leading ½ multiplies its log_var terms too",
            ("log_var", 0.5): "a ½ too many in d_log_var",
            ("mu", 2.0): "d_mu is twice too large: the KL's leading ½ and the 2 of d(mu²)/d mu cancel",
            ("mu", 0.5): "a ½ too many in d_mu: the KL's leading ½ and the 2 of d(mu²)/d mu cancel",
            (None, -1.0): "the sign is flipped"}


def _fresh_noise(impl, d_z, eps, std):
    """Hint if ``reparameterize_backward`` gives the same d_log_var for another eps: the eps passed in is unused."""
    try:
        _, first = call(impl, "reparameterize_backward", d_z, eps, std)
        _, second = call(impl, "reparameterize_backward", d_z, 2 * eps + 1, std)
    except (PropertyFailure, TypeError, ValueError):
        return None
    if np.array_equal(np.asarray(first), np.asarray(second)):
        return ("d_log_var does not change with the eps passed in: use that eps, the forward's noise, "
                "never new noise")
    return None


def reparameterize_gradients(impl, batch, latent_dim):
    rng = np.random.default_rng(10 * batch + latent_dim)
    mu = rng.standard_normal((batch, latent_dim))
    log_var = rng.uniform(-2, 2, size=(batch, latent_dim))
    eps = rng.standard_normal((batch, latent_dim))  # fixed: z is a deterministic function of (mu, log_var)
    d_z = rng.standard_normal((batch, latent_dim))  # a random upstream gradient
    z, std = expect_tuple("reparameterize", call_twice(impl, "reparameterize", mu, log_var, eps), ("z", "std"))
    expect_shape("z", z, mu.shape), expect_shape("std", std, mu.shape)
    if np.array_equal(z, call(impl, "reparameterize", mu, log_var, eps + 1)[0]):
        raise PropertyFailure("reparameterize gave the same z for two different eps",
                              hint="z = mu + std * eps, with the eps passed in: does it draw noise of its own?")
    grads = call_twice(impl, "reparameterize_backward", d_z, eps.copy(), std)
    d_mu, d_log_var = expect_tuple("reparameterize_backward", grads, ("d_mu", "d_log_var"))

    def f():
        return float(np.sum(d_z * call(impl, "reparameterize", mu, log_var, eps)[0]))

    try:
        gradients_match(f, {"mu": mu, "log_var": log_var}, {"mu": d_mu, "log_var": d_log_var}, hints=SAMPLER_HINTS)
    except PropertyFailure as failure:
        failure.hint = _fresh_noise(impl, d_z, eps, std) or failure.hint
        raise


def kl_gradients(impl, batch, latent_dim, upstream):
    rng = np.random.default_rng(7 * batch + latent_dim)
    mu = rng.standard_normal((batch, latent_dim))
    log_var = rng.uniform(-2, 2, size=(batch, latent_dim))
    d_kl = rng.standard_normal(batch) if upstream == "per_example" else 0.37
    expect_shape("kl_standard_normal(mu, log_var)", call_twice(impl, "kl_standard_normal", mu, log_var), (batch,))
    try:
        grads = call_twice(impl, "kl_standard_normal_backward", d_kl, mu, log_var)
        d_mu, d_log_var = expect_tuple("kl_standard_normal_backward", grads, ("d_mu", "d_log_var"))
        for what, value in (("d_mu", d_mu), ("d_log_var", d_log_var)):
            expect_shape(what, value, mu.shape)
    except PropertyFailure as failure:
        if upstream == "per_example" and ("broadcast" in failure.detail or "expected shape" in failure.detail):
            failure.hint = (f"d_kl holds one number per example, shape ({batch},): each scales its example's "
                            f"row of shape ({latent_dim},), so give it shape ({batch}, 1) first")
        raise

    def f():
        return float(np.sum(d_kl * call(impl, "kl_standard_normal", mu, log_var)))

    gradients_match(f, {"mu": mu, "log_var": log_var}, {"mu": d_mu, "log_var": d_log_var}, hints=KL_HINTS)


def kl_is_non_negative(impl, mu, log_var):
    kl = expect_shape("KL", call(impl, "kl_standard_normal", mu, log_var), mu.shape[:1])
    if not np.all(kl >= 0):
        i = int(np.argmin(kl))
        raise PropertyFailure(f"KL = {kl[i]:.6g} < 0 for example {i}", hint=_negative_kl_evidence(kl[i], mu[i], log_var[i]))


def _true_kl(mu, log_var):
    return 0.5 * np.sum(mu * mu + np.expm1(log_var) - log_var, axis=-1)


def _negative_kl_evidence(kl, mu, log_var):
    """Why a KL came out negative: the whole sign flipped, or round-off of exp(t) − 1 − t next to t = 0."""
    true = _true_kl(mu, log_var)
    if abs(kl) < 1e-12 and true < 1e-9:
        return ("exp(t) − 1 subtracts two nearly equal numbers when t = log_var is near 0, and the round-off "
                "can make the KL negative: NumPy has a function for e^t − 1 that keeps every digit")
    if same_values(-kl, true, 1e-6, 0):
        return "the sign is flipped: the KL to the prior is ½ Σ (mu² + σ² − log σ² − 1)"
    return None


def kl_is_positive_away_from_the_prior(impl, mu, log_var):
    """KL > 0 for every example with some |mu_j| or |log_var_j| >= 1e-3: zero only at the prior."""
    kl = expect_shape("KL", call(impl, "kl_standard_normal", mu, log_var), mu.shape[:1])
    away = np.max(np.abs(np.concatenate([mu, log_var], axis=1)), axis=1) >= 1e-3
    if not np.all(kl[away] > 0):
        i = int(np.flatnonzero(away & ~(kl > 0))[0])
        raise PropertyFailure(f"KL = {kl[i]:.6g} for example {i}, which is not the prior",
                              hint=_negative_kl_evidence(kl[i], mu[i], log_var[i]) if kl[i] < 0 else None)


def kl_accurate_for_log_var_near_zero(impl, log_var):
    # Per dimension, KL = (exp(t) - 1 - t) / 2 = t^2/4 + t^3/12 + t^4/48 + ... for t = log_var.
    expected = log_var**2 / 4 + log_var**3 / 12 + log_var**4 / 48
    kl = np.asarray(call(impl, "kl_standard_normal", np.zeros((1, 1)), np.full((1, 1), log_var)))
    expect_close(f"KL at mu=0, log_var={log_var}", np.reshape(kl, -1)[:1], [expected], 1e-6, 0,
                 hint=_near_zero_evidence)


def _near_zero_evidence(got, expected):
    """A factor 2 or ½ is a ½ missing or doubled; an error of round-off size (about 1e-16) is cancellation."""
    got, expected = float(got[0]), float(expected[0])
    if same_values(got, 2 * expected, 1e-3, 0):
        return "the KL is twice the expected value: its leading ½ is missing"
    if same_values(got, expected / 2, 1e-3, 0):
        return "the KL is half the expected value: a ½ too many"
    if abs(got - expected) < 1e-14:
        return ("exp(t) − 1 loses every digit when t = log_var is near 0 (it subtracts two nearly equal numbers): "
                "NumPy has a function for e^t − 1 that keeps them")
    return None


def kl_is_zero_at_the_prior(impl, latent_dim):
    zeros = np.zeros((2, latent_dim))
    expect_close("KL(N(0, I) || N(0, I))", call(impl, "kl_standard_normal", zeros, zeros), [0.0, 0.0], 0, 0)


def kl_keeps_the_dtype(impl, dtype):
    """The KL and its gradient in the dtype of mu and log_var, with d_kl as the VAE passes it.

    The VAE trains in float32 and passes d_kl = beta / batch as a scalar of its
    dtype; a per-example d_kl comes in the same dtype.
    """
    dtype = np.dtype(dtype).type
    rng = np.random.default_rng(4)
    mu = rng.standard_normal((3, 2)).astype(dtype)
    log_var = rng.uniform(-2, 2, size=(3, 2)).astype(dtype)
    kl = np.asarray(call(impl, "kl_standard_normal", mu, log_var))
    for d_kl in (dtype(0.25), np.full(3, 0.25, dtype=dtype)):
        grads = call(impl, "kl_standard_normal_backward", d_kl, mu, log_var)
        d_mu, d_log_var = map(np.asarray, expect_tuple("kl_standard_normal_backward", grads, ("d_mu", "d_log_var")))
        if {kl.dtype, d_mu.dtype, d_log_var.dtype} != {np.dtype(dtype)}:
            name = np.dtype(dtype).name
            raise PropertyFailure(
                f"{name} in; out: KL {kl.dtype}, d_mu {d_mu.dtype}, d_log_var {d_log_var.dtype} "
                f"(with d_kl {'a ' + name + ' scalar' if np.ndim(d_kl) == 0 else 'per example, ' + name})",
                hint="keep the input's dtype: np.zeros(...) without dtype=, np.float64(...) constants and "
                     ".astype(float) turn float32 into float64")


def kl_agrees_with_monte_carlo(impl, latent_dim, seed, data):
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    mu = data.draw(S.arrays(st, hnp, latent_dim, -3, 3), label="mu")
    log_var = data.draw(S.arrays(st, hnp, latent_dim, -3, 3), label="log_var")
    rng = np.random.default_rng(seed)
    n = 20_000
    var = np.exp(log_var)
    z = mu + np.sqrt(var) * rng.standard_normal((n, latent_dim))  # z ~ q = N(mu, var)
    # log q(z) - log p(z), both densities written out here, summed over dimensions.
    log_q = np.sum(-0.5 * np.log(2 * np.pi * var) - (z - mu) ** 2 / (2 * var), axis=1)
    log_p = np.sum(-0.5 * np.log(2 * np.pi) - z**2 / 2, axis=1)
    samples = log_q - log_p
    mc_mean, mc_se = samples.mean(), samples.std(ddof=1) / np.sqrt(n)
    kl = float(np.reshape(call(impl, "kl_standard_normal", mu[None], log_var[None]), -1)[0])
    # 1e-9 absolute covers the round-off of the per-sample terms when q is (nearly) the prior.
    if not abs(kl - mc_mean) < 5 * mc_se + 1e-9:
        raise PropertyFailure(f"analytic KL {kl:.6g}, Monte Carlo E_q[log q − log p] {mc_mean:.6g} ± {mc_se:.2g}",
                              {"mu": mu, "log_var": log_var})


def reparameterize_is_mu_plus_std_eps(impl):
    rng = np.random.default_rng(0)
    mu, log_var, eps = rng.standard_normal((3, 2, 4))
    z, std = expect_tuple("reparameterize", call(impl, "reparameterize", mu, log_var, eps), ("z", "std"))
    expect_close("std²", np.asarray(std) ** 2, np.exp(log_var), 1e-14, 0,
                 hint=lambda got, expected: ("std = exp(log_var) reads log_var as log σ; it is log σ², the log of "
                                             "the variance" if same_values(got, expected**2) else None))
    expect_close("z", z, mu + np.sqrt(np.exp(log_var)) * eps, 1e-14, 1e-15)
    expect_close("z at eps = 0", call(impl, "reparameterize", mu, log_var, np.zeros_like(eps))[0], mu, 0, 0)


def mean_and_variance_match(z, mu, log_var):
    """Each column of z (n, latent_dim) has mean mu and variance exp(log_var), to 5 SE.

    For n normal samples with variance s2, the sample mean has SE sqrt(s2 / n)
    and the sample variance has SE s2 * sqrt(2 / (n - 1)).
    """
    n = z.shape[0]
    expected_var = np.exp(log_var)
    mean_se, var_se = np.sqrt(expected_var / n), expected_var * np.sqrt(2 / (n - 1))
    sample_mean, sample_var = z.mean(axis=0), z.var(axis=0, ddof=1)
    if not np.all(np.abs(sample_mean - mu) < 5 * mean_se):
        raise PropertyFailure(f"sample mean {sample_mean}, expected mu = {mu} (SE {mean_se})")
    if not np.all(np.abs(sample_var - expected_var) < 5 * var_se):
        square = np.all(np.abs(sample_var - expected_var**2) < 5 * var_se * expected_var)
        raise PropertyFailure(
            f"sample variance {sample_var}, expected exp(log_var) = {expected_var} (SE {var_se})",
            hint="the variance is exp(log_var)²: std = exp(log_var) treats log_var as log σ, not log σ²"
            if square else None)


def samples_have_mean_mu_and_variance_exp_log_var(impl, latent_dim, seed, data):
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    mu = data.draw(S.arrays(st, hnp, latent_dim, -5, 5), label="mu")
    log_var = data.draw(S.arrays(st, hnp, latent_dim, -4, 4), label="log_var")
    n = 20_000
    eps = np.random.default_rng(seed).standard_normal((n, latent_dim))
    z, _ = call(impl, "reparameterize", np.broadcast_to(mu, (n, latent_dim)),
                np.broadcast_to(log_var, (n, latent_dim)), eps)
    try:
        mean_and_variance_match(expect_shape("z", z, (n, latent_dim)), mu, log_var)
    except PropertyFailure as failure:
        failure.inputs = {"mu": mu, "log_var": log_var}
        raise


def variance_is_exp_log_var_not_its_square(impl, seed):
    # Variances 4 and 1/4: a sampler with std = exp(log_var) would give 16 and
    # 1/16, hundreds of standard errors away with 100 000 samples.
    log_var, mu, n = np.log([4.0, 0.25]), np.array([1.0, -2.0]), 100_000
    eps = np.random.default_rng(seed).standard_normal((n, 2))
    z, _ = call(impl, "reparameterize", np.tile(mu, (n, 1)), np.tile(log_var, (n, 1)), eps)
    mean_and_variance_match(expect_shape("z", z, (n, 2)), mu, log_var)


def log_normal_matches_the_textbook_density(impl, latent_dim, data):
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    z, mu = (data.draw(S.arrays(st, hnp, (2, latent_dim), -3, 3), label=k) for k in ("z", "mu"))
    log_var = data.draw(S.arrays(st, hnp, (2, latent_dim), -2, 2), label="log_var")
    var = np.exp(log_var)
    # The product of the 1-D densities (no underflow for these bounds), then its log.
    density = np.prod(np.exp(-((z - mu) ** 2) / (2 * var)) / np.sqrt(2 * np.pi * var), axis=1)
    expect_close("log_normal", call(impl, "log_normal", z, mu, log_var), np.log(density), 1e-12, 1e-12)
    standard = np.prod(np.exp(-(z**2) / 2) / np.sqrt(2 * np.pi), axis=1)
    expect_close("log_standard_normal", call(impl, "log_standard_normal", z), np.log(standard), 1e-12, 1e-12)


def _latent(draw_seed=True):
    def strategies(st, hnp):
        out = {"latent_dim": st.integers(1, 4), "data": st.data()}
        return {**out, "seed": S.seeds(st)} if draw_seed else out
    return strategies


REPARAMETERIZE_GRADIENTS = Property(
    "reparameterize_backward matches central differences", reparameterize_gradients,
    cases=({"batch": 1, "latent_dim": 1}, {"batch": 3, "latent_dim": 2}, {"batch": 5, "latent_dim": 4}))
KL_GRADIENTS = Property(
    "kl_standard_normal_backward matches central differences", kl_gradients,
    cases=tuple({"batch": b, "latent_dim": j, "upstream": u}
                for b, j in ((1, 1), (4, 3)) for u in ("per_example", "scalar")))
KL_NON_NEGATIVE = Property(
    "KL >= 0", kl_is_non_negative,
    strategies=lambda st, hnp: {"mu": S.arrays(st, hnp, (3, 4), -10, 10),
                                "log_var": S.arrays(st, hnp, (3, 4), -10, 10)},
)
KL_NON_NEGATIVE_NEAR_PRIOR = Property(
    # found by Hypothesis: KL < 0 by round-off when written exp(t) - 1 - t
    "KL >= 0 next to the prior", kl_is_non_negative, cases=({"mu": np.zeros((3, 4)), "log_var": np.full((3, 4), 1e-8)},))
KL_POSITIVE_AWAY_FROM_PRIOR = Property(
    "KL > 0 away from the prior", kl_is_positive_away_from_the_prior,
    strategies=lambda st, hnp: {"mu": S.arrays(st, hnp, (3, 4), -10, 10),
                                "log_var": S.arrays(st, hnp, (3, 4), -10, 10)})
KL_NEAR_ZERO = Property("KL accurate for log_var near 0", kl_accurate_for_log_var_near_zero,
                        cases=tuple({"log_var": t} for t in (1e-3, 1e-6, 1e-8, -1e-8)))
KL_AT_PRIOR = Property("KL = 0 at the prior", kl_is_zero_at_the_prior,
                       cases=tuple({"latent_dim": j} for j in (1, 2, 20)))
KL_DTYPE = Property("KL and its gradient keep the dtype", kl_keeps_the_dtype,
                    cases=({"dtype": "float32"}, {"dtype": "float64"}))
KL_MONTE_CARLO = Property("KL agrees with a Monte Carlo estimate", kl_agrees_with_monte_carlo, strategies=_latent())
REPARAMETERIZE_VALUES = Property("z = mu + exp(½ log_var) eps", reparameterize_is_mu_plus_std_eps, cases=({},))
SAMPLE_MOMENTS = Property("samples have mean mu and variance exp(log_var)",
                          samples_have_mean_mu_and_variance_exp_log_var, strategies=_latent())
VARIANCE_NOT_SQUARED = Property("sample variance exp(log_var), not its square",
                                variance_is_exp_log_var_not_its_square, cases=({"seed": 0}, {"seed": 1}))
LOG_NORMAL_DENSITY = Property("log_normal matches the textbook density", log_normal_matches_the_textbook_density,
                              strategies=_latent(draw_seed=False))
