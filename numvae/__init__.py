"""numvae: a Variational Autoencoder written from scratch in NumPy, for teaching.

Read these modules in this order; each builds only on the ones before it:

1. ``activations``     — element-wise functions and their derivatives
2. ``layers``          — the dense layer as two functions, and the Dense and MLP that call them
3. ``gaussian``        — reparameterization, KL to N(0, I), log densities
4. ``likelihoods``     — Bernoulli (from logits) and Gaussian decoders
5. ``vae``             — the model that joins them, its loss and its backward pass
6. ``optim``           — SGD with momentum, Adam
7. ``gradcheck``       — central differences that prove the gradients right
8. ``evaluate``        — the test ELBO and the importance-weighted bound on log p(x)
9. ``linear_gaussian`` — a latent model whose log p(x) and posterior are exact
10. ``conditional``    — a class label as a network's input: one-hot, join, and the split back
11. ``cvae``           — the conditional VAE: q(z|x,y), p(x|z,y) (lecture 13)
12. ``categorical``    — softmax, cross-entropy and entropy of a classifier q(y|x)
13. ``m2``             — the semi-supervised VAE: the label as a partly observed latent
14. ``collapse``       — the KL of each latent unit, active units, free bits
15. ``made``           — masked dense layers and the autoregressive MADE network
16. ``made_vae``       — the VAE whose decoder is a MADE (posterior collapse at β = 1)
17. ``iwae``           — training on the importance-weighted bound: its gradient by hand
18. ``amortization``   — q(z|x) fitted per image: the amortization and approximation gaps

The machinery around them lives in subpackages, and the math imports none of
it: ``data`` (datasets and binarization), ``training`` (the trainer, its
settings, checkpoints, threads), ``course`` (exercises, the properties that
grade them, the bug zoo), ``plots``, ``cli`` (the ``numvae`` command) and
``util`` (argument checks at the door, atomic file writes).
"""

__version__ = "0.1.0"

# The names below are imported on first use (PEP 562), so that ``import numvae``
# is instant: the ``numvae`` command installs its Ctrl-C handling before NumPy loads.
_LAZY = {
    "VAE": "vae",
    "CVAE": "cvae",
    "LossTerms": "vae",
    "SGD": "optim",
    "Adam": "optim",
    "check_gradients": "gradcheck",
    "check_model": "gradcheck",
    "numerical_gradient": "gradcheck",
    "M2": "m2",
    "MADEVAE": "made_vae",
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'numvae' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__():
    return sorted([*globals(), *_LAZY])

__all__ = [
    "VAE",
    "CVAE",
    "LossTerms",
    "SGD",
    "Adam",
    "check_gradients",
    "check_model",
    "numerical_gradient",
    "M2",
    "MADEVAE",
    "__version__",
]
