import numpy as np


def adam_step(param, grad, m, v, t, lr, betas=(0.9, 0.999), epsilon=1e-8):
    """Step t (counting from 1) of Adam: Algorithm 1 of Kingma & Ba (2015, arXiv:1412.6980).

    With decay rates ρ₁, ρ₂ = betas, stabilizing constant δ = epsilon,
    learning rate η = lr, the parameter ω = param and the gradient g = grad:

        m ← ρ₁ m + (1 − ρ₁) g              (first moment)
        v ← ρ₂ v + (1 − ρ₂) g²             (second moment)
        m̂ = m / (1 − ρ₁ᵗ),  v̂ = v / (1 − ρ₂ᵗ)   (bias correction)
        ω ← ω − η m̂ / (√v̂ + δ)

    m and v start at 0 (the optimizer holds them between steps).

    Parameters
    ----------
    param, grad, m, v : ndarray, all of one shape
    t : int >= 1, the number of this step
    lr : float
    betas : (float, float)
    epsilon : float

    Returns
    -------
    (param, m, v) : the updated arrays; update the arrays passed in (in place)
        or return new ones, as you prefer

    `check` verifies, running numvae's Adam optimizer with your function: the
    first step has size lr in every coordinate (relative 1e-5); twenty steps
    match Algorithm 1 to a relative 1e-12 for betas (0.9, 0.999), (0.5, 0.9)
    and (0, 0); Adam reaches the minimum of a convex quadratic.
    """
    raise NotImplementedError("adam_step: not implemented yet")
