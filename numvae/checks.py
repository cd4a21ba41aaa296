"""Argument checks shared by the model, the trainer and the command line.

Each check returns the cleaned value or raises ``ValueError`` with a message
that names the argument, says what was expected and shows what came, e.g.
``latent_dim: expected a positive integer, got 0``.
"""

import numbers

import numpy as np


def positive_int(name, value):
    """An int > 0 (bools are refused: ``True`` is not a size)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def non_negative_int(name, value):
    """An int >= 0, such as a seed (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {value!r}")
    return int(value)


def positive_ints(name, values):
    """A sequence of ints > 0 (possibly empty)."""
    try:
        values = tuple(values)
    except TypeError:
        raise ValueError(f"{name}: expected a sequence of positive integers, got {values!r}") from None
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
            raise ValueError(f"{name}: expected a sequence of positive integers, got {values!r}")
    return tuple(int(v) for v in values)


def real(name, value, *, minimum=None, strict=False):
    """A finite real number, optionally ``>= minimum`` (``> minimum`` if ``strict``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if ok and minimum is not None:
        ok = value > minimum if strict else value >= minimum
    if not ok:
        bound = "" if minimum is None else f" {'>' if strict else '>='} {minimum}"
        raise ValueError(f"{name}: expected a finite number{bound}, got {value!r}")
    return float(value)


def choice(name, value, allowed):
    """One of ``allowed`` (strings)."""
    if value not in allowed:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def batch(name, x, width, dtype, *, unit_interval=False):
    """A finite 2-D array of shape (batch, width), converted to ``dtype``.

    With ``unit_interval`` the values must also lie in [0, 1] (Bernoulli data).
    """
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != width or x.shape[0] == 0:
        raise ValueError(f"{name}: expected an array of shape (batch, {width}) with batch >= 1, got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"{name}: expected real numbers, got dtype {x.dtype}")
    x = x.astype(dtype, copy=False)
    # Every training step checks its batch, so this reads x twice, not four
    # times: min and max are NaN if any value is NaN and infinite if any is,
    # so finite extremes prove every value finite.
    low, high = x.min(), x.max()
    if not (np.isfinite(low) and np.isfinite(high)):
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(f"{name}: expected finite values, got {x[tuple(bad)]} at index {tuple(int(i) for i in bad)}")
    if unit_interval and (low < 0 or high > 1):
        raise ValueError(
            f"{name}: expected values in [0, 1] for a Bernoulli likelihood, "
            f"got values in [{low:g}, {high:g}]"
        )
    return x
