"""numvae: a Variational Autoencoder written from scratch in NumPy, for teaching.

Read the modules in this order, each builds only on the ones before it:

1. ``activations`` — element-wise functions and their derivatives
2. ``layers``      — Dense, Activation, MLP, with hand-written backward passes
3. ``gaussian``    — reparameterization, KL to N(0, I), log densities
4. ``likelihoods`` — Bernoulli (from logits) and Gaussian decoders
5. ``vae``         — the model that joins them and its loss
6. ``optim``       — SGD with momentum, Adam
7. ``gradcheck``   — central differences that prove the gradients right

``layers`` and ``optim`` keep their large arrays in ``buffers``: zeroed flat
buffers on huge pages where Linux offers them (for speed; the bits are the same).

Around the model: ``data`` (datasets, read by ``mnist5k``, ``idx`` and
``download`` with its ``watchdog``; ``binarization``: grey pixels to bits), ``train`` (the loop; its settings in ``train_config``, what a
diverging run reports in ``train_diverged``), ``evaluate`` (ELBO and
importance-weighted log-likelihood), ``checkpoint``, ``plots``, ``cli``;
``properties`` (the mathematical properties the tests, the exercise checker
and the bug zoo apply) and ``exercises`` (self-grading workbooks, the bug zoo).
Nothing in the model imports those, nor matplotlib.
"""

__version__ = "0.1.0"

# The names below are imported on first use (PEP 562), so that ``import numvae``
# is instant: the ``numvae`` command installs its Ctrl-C handling before NumPy loads.
_LAZY = {
    "VAE": "vae",
    "LossTerms": "vae",
    "SGD": "optim",
    "Adam": "optim",
    "check_gradients": "gradcheck",
    "check_model": "gradcheck",
    "numerical_gradient": "gradcheck",
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
    "LossTerms",
    "SGD",
    "Adam",
    "check_gradients",
    "check_model",
    "numerical_gradient",
    "__version__",
]
