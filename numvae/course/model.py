r"""A VAE and an Adam whose arithmetic is a set of functions: a student's, numvae's, or a mutant's.

:class:`FunctionalVAE` is a :class:`numvae.VAE` (same parameters, flat
buffers, initialisation, checkpoints) whose forward and backward passes call
the functions of an *implementation*, a namespace with the attributes of
:data:`FUNCTIONS`. :func:`default_implementation` gives numvae's own;
replacing some of its attributes with a student's functions is how
``numvae exercises train`` trains a model built from the student's code. With
numvae's functions the arithmetic is the engine's, in the same order, so the
numbers are the same as ``numvae train``'s.

The engine knows nothing of this module: it is composed from outside.
"""

from types import SimpleNamespace

import numpy as np

from .. import activations, evaluate, gaussian, likelihoods
from ..optim import Adam
from .properties.core import kind
from ..vae import VAE
from . import reference

FUNCTIONS = {
    "activations": [*(f"{n}{s}" for n in activations.ACTIVATIONS for s in ("", "_backward"))],
    "reference": ["dense_forward", "dense_backward", "encoder_gradient", "adam_step", "iw_bound"],
    "gaussian": ["reparameterize", "reparameterize_backward", "kl_standard_normal", "kl_standard_normal_backward"],
    "likelihoods": ["bernoulli_nll", "bernoulli_nll_backward", "gaussian_nll", "gaussian_nll_backward"],
    "evaluate": ["log_mean_exp"],
}
_MODULES = {"activations": activations, "reference": reference, "gaussian": gaussian,
            "likelihoods": likelihoods, "evaluate": evaluate}


def default_implementation(**overrides):
    """numvae's own functions as one namespace, with ``overrides`` replacing some of them."""
    impl = {name: getattr(_MODULES[module], name) for module, names in FUNCTIONS.items() for name in names}
    unknown = set(overrides) - set(impl)
    if unknown:
        raise ValueError(f"overrides: expected names among numvae's functions, got {sorted(unknown)[0]!r}")
    impl.update(overrides)
    return SimpleNamespace(**impl)


def functional_adam(adam_step):
    """An :class:`numvae.optim.Adam` whose update is ``adam_step(param, grad, m, v, t, lr, betas, epsilon)``."""

    class FunctionalAdam(Adam):
        def step(self, grads):
            self._check(grads)
            self.t += 1
            for name, p in self.params.items():
                new = adam_step(p, grads[name], self.m[name], self.v[name], self.t, self.lr,
                                (self.beta1, self.beta2), self.epsilon)
                if not (isinstance(new, (tuple, list)) and len(new) == 3):
                    raise ValueError(f"adam_step must return the tuple (param, m, v), got {kind(new)}")
                new_p, new_m, new_v = new
                p[...], self.m[name][...], self.v[name][...] = new_p, new_m, new_v

    return FunctionalAdam


class FunctionalVAE(VAE):
    """A :class:`numvae.VAE` computed by the functions of ``impl`` (see :func:`default_implementation`).

    Takes the arguments of :class:`numvae.VAE` plus ``impl``. Only the
    arithmetic changes: parameters, their order, the random streams and the
    loss bookkeeping are the VAE's.
    """

    def __init__(self, *args, impl=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.impl = impl or default_implementation()

    # -- the networks, as functions ---------------------------------------

    def _mlp_forward(self, mlp, x, cache):
        forward = getattr(self.impl, self.activation)
        for i, layer in enumerate(mlp.dense):
            y = self.impl.dense_forward(x, layer.params["W"], layer.params["b"])  # (batch, fan_out)
            pre = y
            if i < len(mlp.dense) - 1:
                y = forward(pre)
            if cache is not None:
                cache.append((x, pre, y))
            x = y
        return x

    def _mlp_backward(self, mlp, cache, d_out):
        backward = getattr(self.impl, f"{self.activation}_backward")
        for i in reversed(range(len(mlp.dense))):
            layer, (x, pre, y) = mlp.dense[i], cache[i]
            if i < len(mlp.dense) - 1:
                d_out = backward(d_out, pre, y)
            d_W, d_b, d_x = self.impl.dense_backward(d_out, x, layer.params["W"])
            layer.grads["W"][...], layer.grads["b"][...] = d_W, d_b
            d_out = d_x
        return d_out

    def _nll(self, x, out):
        if self.likelihood_name == "bernoulli":
            return self.impl.bernoulli_nll(x, out)
        return self.impl.gaussian_nll(x, out, self.likelihood.log_var)

    # -- the VAE's forward pieces -----------------------------------------

    def encode(self, x):
        h = self._mlp_forward(self.encoder, self._check_x(x), None)
        return h[:, : self.latent_dim], h[:, self.latent_dim :]

    def decode(self, z):
        out = self._mlp_forward(self.decoder, np.asarray(z, dtype=self.dtype), None)
        return self.impl.sigmoid(out) if self.likelihood_name == "bernoulli" else out

    def log_px_given_z(self, x, z):
        out = self._mlp_forward(self.decoder, np.asarray(z, dtype=self.dtype), None)
        return -self._nll(self._check_x(x), out)

    def _forward(self, x, eps, keep_cache):
        x = self._check_x(x)
        eps = self._draw_eps(x.shape[0], eps)
        enc_cache, dec_cache = ([], []) if keep_cache else (None, None)
        h = self._mlp_forward(self.encoder, x, enc_cache)  # (batch, 2 latent_dim)
        mu, log_var = h[:, : self.latent_dim], h[:, self.latent_dim :]
        z, std = self.impl.reparameterize(mu, log_var, eps)  # (batch, latent_dim)
        out = self._mlp_forward(self.decoder, z, dec_cache)  # (batch, input_dim)
        reconstruction = self._nll(x, out)  # (batch,)
        kl = self.impl.kl_standard_normal(mu, log_var)  # (batch,)
        if keep_cache:
            self._cache = (mu, log_var, eps, std, x, out, enc_cache, dec_cache)
        return reconstruction, kl

    def backward(self):
        if self._cache is None:
            raise RuntimeError("backward() called before loss(): compute the loss on a batch first")
        mu, log_var, eps, std, x, out, enc_cache, dec_cache = self._cache
        batch_size = mu.shape[0]
        d_rec = self.dtype.type(1.0 / batch_size)
        d_kl = self.dtype.type(self.beta / batch_size)
        if self.likelihood_name == "bernoulli":
            d_out = self.impl.bernoulli_nll_backward(d_rec, x, out)
        else:
            d_out, d_log_var = self.impl.gaussian_nll_backward(d_rec, x, out, self.likelihood.log_var,
                                                               need_d_log_var=self.learn_sigma)
            if self.learn_sigma:
                self.likelihood.grads["log_var"][...] = d_log_var
        d_z = self._mlp_backward(self.decoder, dec_cache, d_out)  # (batch, latent_dim)
        d_mu_z, d_log_var_z = self.impl.reparameterize_backward(d_z, eps, std)
        d_mu_kl, d_log_var_kl = self.impl.kl_standard_normal_backward(d_kl, mu, log_var)
        d_h = self.impl.encoder_gradient(d_mu_z, d_log_var_z, d_mu_kl, d_log_var_kl)  # (batch, 2 latent_dim)
        self._mlp_backward(self.encoder, enc_cache, d_h)
        return dict(self._grads)
