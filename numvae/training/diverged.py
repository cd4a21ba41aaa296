"""When training diverges: the error it raises, and the likely cause its message names.

A run diverges when its loss, its parameters or its optimizer's state stop being
finite. Most often the learning rate is too large; :func:`likely_cause` names two
causes that no learning rate fixes instead, because the model's float type cannot
hold the numbers at all: a Gaussian decoder's σ² so small that 1/σ² (or its square)
overflows, and a KL weight β beyond the largest float.
"""

import math

import numpy as np


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message says where and what to try."""


def likely_cause(model, beta, lr):
    """What to try, in words: the first of :func:`tiny_variance` and :func:`huge_beta` that applies,
    else a smaller learning rate than ``lr``."""
    cause = tiny_variance(model) or huge_beta(beta, model.dtype)
    if cause is None:
        cause = (f"lr={lr:g}: try a smaller learning rate, "
                 "a KL warm-up, or check the data")
    return cause


def huge_beta(beta, dtype):
    """Why no learning rate helps: β times a KL of one nat is already beyond the model's float type."""
    if beta <= np.finfo(dtype).max:
        return None
    return (f"the KL weight β = {beta:g} overflows {dtype} (largest {np.finfo(dtype).max:.3g}) "
            "as soon as it multiplies a KL of one nat: choose a smaller beta")


def tiny_variance(model):
    """Why a Gaussian decoder cannot train if its σ² is tiny: 1/σ², or the squared
    gradients Adam keeps (of order 1/σ⁴), overflow the model's float type."""
    if model.likelihood_name != "gaussian":
        return None
    log_vars = [2.0 * math.log(model.sigma)]  # the fixed σ, or where a learned one began
    learned = model.parameters().get("decoder.log_var")
    if learned is not None and np.any(np.isfinite(learned)):
        log_vars.append(float(np.min(learned[np.isfinite(learned)])))
    smallest, log_max = min(log_vars), math.log(np.finfo(model.dtype).max)
    if -smallest >= log_max:
        what = "underflows, so 1/σ² is infinite"
    elif -2 * smallest >= log_max:
        what = "is so small that the squared gradients, of order 1/σ⁴, overflow"
    else:
        return None
    return f"the Gaussian decoder's σ² = exp({smallest:.4g}) {what} in {model.dtype}: choose a larger sigma, or float64"
