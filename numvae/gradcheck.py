r"""Finite-difference gradient checking, shared by the tests and the tutorials.

A backward pass written by hand is only trustworthy once it agrees with the
definition of the derivative. For a scalar function f of an array ω, the
central difference

.. math::
    \frac{\partial f}{\partial \omega_i} \approx
    \frac{f(\omega + h e_i) - f(\omega - h e_i)}{2h}

has error O(h²) (the O(h) terms cancel): truncation
:math:`\approx h^2 |f'''| / 6`. It also has round-off: each of
:math:`f(\omega \pm h e_i)` carries a rounding error of about :math:`u |f|`, where
u is the unit round-off of the float type (:math:`2^{-53} \approx 1.1 \times 10^{-16}`
in float64, half the machine epsilon), and dividing their difference by 2h
turns that into an absolute error of about :math:`u |f| / h` in the gradient.

In float64 with the default h = 1e-5: truncation :math:`\approx 2 \times 10^{-11} |f'''|`,
round-off :math:`\approx 1.1 \times 10^{-11} |f|`. For a loss of about 10 that is an
absolute error of about 1e-10 in every entry, so the *relative* error below
depends on the size of the gradient: ~1e-10 for gradients of order 1, but
~1e-7 (up to ~2e-7 with a second rounding) for a parameter whose gradient
entries are ~1e-3. Measured on f(ω) = 10 + Σ c_i sin(a_i ω_i), with
gradients up to ~1.6e-3: absolute errors up to 8e-11, relative error 5e-8.
That is still below the 1e-6 the tests demand, but only by a factor of
5 to 20: a check of a parameter with gradients of ~1e-4 in a loss of ~10
would need a looser tolerance or a smaller loss. In float32
(:math:`u = 2^{-24} \approx 6 \times 10^{-8}`) the round-off alone is
:math:`\approx 6 \times 10^{-3} |f|`, comparable with the gradients themselves,
which is why checks run in float64.

**Relative error** of one parameter array, with analytic gradient a and
numerical gradient n:

.. math::
    \mathrm{err} = \frac{\max_i |a_i - n_i|}{\max(\max_i |a_i|, \max_i |n_i|)}

i.e. the worst absolute disagreement measured against the size of that
parameter's gradient (0 when both are exactly 0). Dividing entry by entry
instead would flag entries whose true gradient is ~1e-12 and whose two
estimates differ only by round-off.
"""

from dataclasses import dataclass

import numpy as np

from .util import checks


def numerical_gradient(f, x, h=1e-5, name="x", require_float64=True):
    """Central-difference gradient of the scalar ``f()`` with respect to ``x``.

    Parameters
    ----------
    f : callable with no arguments returning a float
        Must read ``x`` (e.g. a loss that uses a model's live parameter).
    x : ndarray of float64
        Perturbed in place entry by entry and restored exactly afterwards.
    h : float > 0
        Step size.
    name : str
        What ``x`` is, for the error message.
    require_float64 : bool
        Refuse other dtypes (the default), since in float32 the round-off
        swamps the derivative. Pass False only to *show* that happening.

    Returns
    -------
    ndarray, same shape as ``x``, float64.
    """
    if require_float64 and x.dtype != np.float64:
        raise ValueError(
            f"{name}: expected a float64 array for a gradient check, got {x.dtype} "
            "(build the model with dtype=np.float64)"
        )
    if not np.issubdtype(x.dtype, np.floating):  # x[i] = 1 + h would be truncated back to 1
        raise ValueError(f"{name}: expected a floating array, got {x.dtype}")
    h = checks.real("h", h, minimum=0, strict=True)
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        try:  # x is a live parameter: restore it even if f fails on the perturbed value
            x[index] = original + h
            f_plus = f()
            x[index] = original - h
            f_minus = f()
        finally:
            x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


@dataclass(frozen=True)
class GradCheck:
    """Comparison of one parameter's analytic and numerical gradients."""

    name: str
    relative_error: float
    index: tuple  # where |analytic - numerical| is largest
    analytic: float  # the two values there
    numerical: float

    def __str__(self):
        return (
            f"{self.name}: relative error {self.relative_error:.2e} at index {self.index} "
            f"(analytic {self.analytic:.10g}, numerical {self.numerical:.10g})"
        )


def compare(name, analytic, numerical):
    """Build a :class:`GradCheck` from two gradient arrays of the same shape."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numerical = np.asarray(numerical, dtype=np.float64)
    if analytic.shape != numerical.shape:
        raise ValueError(f"{name}: analytic gradient has shape {analytic.shape}, numerical {numerical.shape}")
    diff = np.abs(analytic - numerical)
    flat = int(np.argmax(diff)) if diff.size else 0
    index = tuple(int(i) for i in np.unravel_index(flat, diff.shape)) if diff.size else ()
    scale = max(np.max(np.abs(analytic), initial=0.0), np.max(np.abs(numerical), initial=0.0))
    with np.errstate(invalid="ignore"):  # inf / inf: handled just below
        error = 0.0 if scale == 0 else float(diff.flat[flat] / scale)
    if not np.isfinite(error):
        # A NaN or infinite gradient is the worst possible result; NaN would
        # also slip past max() and comparisons, so make it +inf.
        error = float("inf")
    values = (float(analytic[index]), float(numerical[index])) if diff.size else (0.0, 0.0)
    return GradCheck(name, error, index, *values)


class GradCheckReport:
    """The checks of several parameters, with the worst one easy to find."""

    def __init__(self, checks):
        self.checks = list(checks)

    @property
    def worst(self):
        return max(self.checks, key=lambda c: c.relative_error)

    def __str__(self):
        return "\n".join(str(c) for c in self.checks)

    def assert_close(self, tolerance=1e-6):
        """Raise ``AssertionError`` naming the worst parameter if it exceeds ``tolerance``."""
        worst = self.worst
        if not worst.relative_error < tolerance:
            raise AssertionError(f"gradient check failed (tolerance {tolerance:.0e}): {worst}")
        return self


def check_gradients(f, params, analytic, h=1e-5):
    """Check analytic gradients of ``f()`` against central differences.

    Parameters
    ----------
    f : callable with no arguments returning a float
    params : dict of str -> float64 ndarray
        Live arrays that ``f`` reads; each is perturbed in place and restored.
    analytic : dict of str -> ndarray
        The gradients to check, same keys and shapes. Copy them first if the
        code that produced them will overwrite them when ``f`` runs.
    h : float

    Returns
    -------
    GradCheckReport

    Raises
    ------
    ValueError
        If ``params`` is empty (a report of nothing would pass) or the keys
        of ``analytic`` differ from those of ``params`` (an extra gradient
        would go unchecked without a word).
    """
    if not params:
        raise ValueError("params: expected at least one array to check, got none")
    if set(analytic) != set(params):
        raise ValueError(f"analytic: expected gradients for exactly the keys of params {sorted(params)}, "
                         f"got {sorted(analytic)}")
    return GradCheckReport(
        compare(name, analytic[name], numerical_gradient(f, p, h, name)) for name, p in params.items()
    )


def check_model(model, x, eps=None, h=1e-5):
    """Gradient check of a model's ``loss`` with respect to every parameter.

    ``model`` needs ``loss(x, eps)``, ``backward()`` and ``parameters()``,
    as :class:`numvae.VAE` has. ``eps`` is drawn once (if None, from a
    Generator of its own, so the model's training noise is left alone) and
    replayed on every evaluation: the loss is then a deterministic function
    of the parameters.
    """
    if eps is None:
        eps = np.random.default_rng(0).standard_normal((np.shape(x)[0], model.latent_dim))
    model.loss(x, eps)
    analytic = {name: g.copy() for name, g in model.backward().items()}
    return check_gradients(lambda: model.loss(x, eps).loss, model.parameters(), analytic, h)
