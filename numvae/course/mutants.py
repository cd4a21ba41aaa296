r"""The bug zoo's specimens: classic VAE mistakes, each a small variant of one of numvae's functions.

A mutant function is named ``<function>__<mutant>``; it replaces ``<function>``
of one exercise (see :mod:`.zoo`). Several make the *same* mistake in a forward
and its backward: the backward is then the exact derivative of the wrong
forward, and only a property of the mathematics can tell.
"""

import numpy as np

from .. import categorical
from ..activations import sigmoid, softplus


def reparameterize__std_exp_log_var(mu, log_var, eps):
    std = np.exp(log_var)  # log_var read as log σ, while the KL reads it as log σ²
    return mu + std * eps, std


def reparameterize_backward__std_exp_log_var(d_z, eps, std):
    return d_z, d_z * eps * std  # the exact derivative of mu + exp(log_var) * eps


def reparameterize_backward__missing_half(d_z, eps, std):
    return d_z, d_z * eps * std  # d std / d log_var = ½ std: the ½ is gone


def reparameterize_backward__fresh_noise(d_z, eps, std):
    # New noise instead of the forward's eps (a Generator seeded here, so the zoo's table is reproducible).
    fresh = np.random.default_rng(1).standard_normal(np.shape(std))
    return d_z, 0.5 * d_z * fresh * std


def kl_standard_normal__sign_flipped(mu, log_var):
    return -0.5 * np.sum(mu * mu + (np.expm1(log_var) - log_var), axis=-1)


def kl_standard_normal_backward__sign_flipped(d_kl, mu, log_var):
    d_kl = np.reshape(d_kl, (-1, 1)) if np.ndim(d_kl) else d_kl
    return -d_kl * mu, -d_kl * 0.5 * np.expm1(log_var)


def dense_backward__bias_mean(d_y, x, W, need_d_x=True):
    return x.T @ d_y, np.mean(d_y, axis=0), d_y @ W.T if need_d_x else None  # the batch sum became a mean


def softplus__naive_softplus(x):
    return np.log(1 + np.exp(x))  # exp(x) overflows for x > 709 (x > 88 in float32)


def sigmoid__naive_sigmoid(x):
    return 1 / (1 + np.exp(-x))  # exp(-x) overflows for x < -709


def tanh_backward__tanh_of_input(d_y, x, y):
    return d_y * (1 - x * x)  # 1 - tanh², evaluated at the input instead of the output


def encoder_gradient__kl_path_forgotten(d_mu_z, d_log_var_z, d_mu_kl, d_log_var_kl):
    return np.concatenate([d_mu_z, d_log_var_z], axis=1)  # the KL's gradient never reaches mu, log_var


def adam_step__no_bias_correction(param, grad, m, v, t, lr, betas=(0.9, 0.999), epsilon=1e-8):
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * (grad * grad)
    return param - lr * (m / (np.sqrt(v) + epsilon)), m, v  # m and v still biased towards 0


def gaussian_nll__no_log_2pi(x, mean, log_var):
    residual = x - mean
    return 0.5 * np.sum(residual * residual * np.exp(-log_var) + log_var, axis=-1)  # + log 2π dropped


def bernoulli_nll__pixel_mean(x, logits):
    return np.mean(softplus(logits) - x * logits, axis=-1)  # a mean over pixels: an implicit β = 784


def bernoulli_nll_backward__pixel_mean(d_nll, x, logits):
    d_nll = np.reshape(d_nll, (-1, 1)) if np.ndim(d_nll) else d_nll
    return d_nll * (sigmoid(logits) - x) / np.shape(x)[-1]


def bernoulli_nll__sigmoid_output(x, logits):
    p = sigmoid(logits)  # the decoder's last layer squashed, then read as logits
    return np.sum(softplus(p) - x * p, axis=-1)


def bernoulli_nll_backward__sigmoid_output(d_nll, x, logits):
    p = sigmoid(logits)
    d_nll = np.reshape(d_nll, (-1, 1)) if np.ndim(d_nll) else d_nll
    return d_nll * (sigmoid(p) - x) * p * (1 - p)


def log_mean_exp__log_sum_exp(a, axis=0):
    a = np.asarray(a, dtype=np.float64)
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.sum(np.exp(a - m), axis=axis))  # sum: log K too large


def unlabelled_loss__entropy_forgotten(losses, logits):
    return np.sum(categorical.softmax(logits) * losses, axis=-1)  # Σ_y q L: the − H(q) is gone


def unlabelled_loss_backward__entropy_forgotten(d_u, losses, logits):
    d_u_column = np.reshape(d_u, (-1, 1)) if np.ndim(d_u) else d_u
    q = categorical.softmax(logits)
    return d_u_column * q, categorical.softmax_backward(d_u_column * losses, q)  # the exact derivative of Σ_y q L


def unlabelled_loss__argmax(losses, logits):
    best = np.argmax(logits, axis=-1)  # the classifier's guess, used as if it were the label
    return np.take_along_axis(losses, best[:, None], axis=-1)[:, 0]


def unlabelled_loss_backward__argmax(d_u, losses, logits):
    d_u_column = np.reshape(d_u, (-1, 1)) if np.ndim(d_u) else d_u
    guess = np.eye(np.shape(logits)[-1])[np.argmax(logits, axis=-1)]
    return d_u_column * guess, np.zeros(np.shape(logits))  # argmax is flat: no gradient reaches the classifier


ALPHA = 10.0
"""The label weight the alpha_on_unlabelled mutant writes in (unlabelled_loss takes no α), and the zoo's M1+M2 trains with."""


def unlabelled_loss__alpha_on_unlabelled(losses, logits):
    q = categorical.softmax(logits)
    return ALPHA * (np.sum(q * losses, axis=-1) - categorical.entropy(logits))  # α · u: α belongs on −log q(y|x)


def unlabelled_loss_backward__alpha_on_unlabelled(d_u, losses, logits):
    d_u = ALPHA * np.asarray(d_u)  # the exact derivative of α · u
    d_u_column = np.reshape(d_u, (-1, 1)) if np.ndim(d_u) else d_u
    q = categorical.softmax(logits)
    d_logits = categorical.softmax_backward(d_u_column * losses, q) + categorical.entropy_backward(-d_u, logits)
    return d_u_column * q, d_logits


__all__ = [name for name in dir() if "__" in name and not name.startswith("_")]