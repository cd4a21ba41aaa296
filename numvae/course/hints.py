"""Hints on request, in steps: what to differentiate, the intermediate result, the formula last.

``numvae exercises hint DIR NAME`` shows the next hint of exercise NAME (and
the ones already shown), so a stuck student is not stuck and a student who
wants to derive is told nothing they did not ask for. How many hints each
exercise has shown is kept in the workbook, in :data:`STATE` (a small JSON
file, written atomically: a temporary name, then a rename).

The hints name no numvae internals: the last one of each exercise is the
formula, as a student would write it on paper.
"""

import json
from pathlib import Path

from ..util.files import atomic_write

STATE = ".hints.json"
"""The file in the workbook that counts the hints shown, e.g. ``{"kl": 2}``."""

HINTS = {
    "relu": (
        "Differentiate y = max(x, 0) on each side of 0 separately: what is dy/dx for x > 0, and for x < 0?",
        "dy/dx is 1 where x > 0 and 0 where x < 0 (take 0 at x = 0); by the chain rule d_x = d_y · dy/dx, "
        "element by element.",
        "relu_backward: d_x = d_y * (x > 0). The forward: np.maximum(x, 0) keeps the dtype of x.",
    ),
    "tanh": (
        "Write tanh as sinh/cosh and differentiate the quotient; then express the result through tanh itself.",
        "d tanh(x)/dx = 1/cosh²(x) = 1 − tanh²(x): the derivative is a function of the output y = tanh(x), "
        "which the backward receives.",
        "tanh_backward: d_x = d_y * (1 - y * y). The forward: np.tanh is stable for every x.",
    ),
    "sigmoid": (
        "Forward first: e^−x overflows for x < −709 (−88 in float32). Write sigmoid with e^−|x|, which is in (0, 1] "
        "for every x, in two cases: x >= 0 and x < 0 (multiply the fraction by e^x / e^x in the second).",
        "sigmoid(x) = 1 / (1 + e^−|x|) for x >= 0 and e^−|x| / (1 + e^−|x|) for x < 0 (np.where picks the case). "
        "For the backward, differentiate 1 / (1 + e^−x) with the quotient rule and write the result in y = sigmoid(x).",
        "sigmoid'(x) = e^-x / (1 + e^-x)² = y (1 - y), so sigmoid_backward: d_x = d_y * y * (1 - y).",
    ),
    "softplus": (
        "Forward first: log(1 + e^x) overflows for large x, and 1 + e^x rounds to 1 for x below about −37. Take the "
        "larger of the two terms out of the log: 1 + e^x = e^max(x, 0) · (e^−max(x, 0) + e^(x − max(x, 0))).",
        "softplus(x) = max(x, 0) + log(1 + e^−|x|), and np.log1p(u) computes log(1 + u) accurately for tiny u. "
        "For the backward, differentiate log(1 + e^x) directly.",
        "softplus'(x) = e^x / (1 + e^x) = sigmoid(x), of the input x: softplus_backward: d_x = d_y * sigmoid(x).",
    ),
    "dense": (
        "Write one output by indices, y[n, k] = Σ_i x[n, i] W[i, k] + b[k], and ask which outputs each W[i, k], "
        "b[k] and x[n, i] touches: the chain rule sums d_y over all of them.",
        "dL/dW[i, k] = Σ_n d_y[n, k] x[n, i] (a sum over the batch), dL/db[k] = Σ_n d_y[n, k], "
        "dL/dx[n, i] = Σ_k d_y[n, k] W[i, k]. Now write each sum as a matrix product or a sum over an axis.",
        "d_W = x.T @ d_y, d_b = d_y.sum(axis=0), d_x = d_y @ W.T (check the shapes: (fan_in, fan_out), "
        "(fan_out,), (batch, fan_in)).",
    ),
    "reparameterize": (
        "z = mu + σ · eps with σ = exp(½ · log_var): differentiate z with respect to mu, and with respect to "
        "log_var (through σ), with eps held fixed.",
        "dz/dmu = 1 and dz/dlog_var = eps · dσ/dlog_var = ½ · σ · eps (the ½ comes from the exponent). "
        "The backward receives the forward's eps and std: use them, draw nothing new.",
        "reparameterize: std = np.exp(0.5 * log_var); z = mu + std * eps. "
        "reparameterize_backward: d_mu = d_z, d_log_var = 0.5 * d_z * eps * std.",
    ),
    "kl": (
        "Forward: near log_var = t = 0, exp(t) − 1 subtracts two nearly equal numbers and keeps almost no digit "
        "(try t = 1e-8). np.expm1(t) computes e^t − 1 accurately: write σ² − log σ² − 1 with it. Backward: "
        "differentiate one term ½ (mu² + e^t − t − 1) with respect to mu and to t = log_var.",
        "dKL/dmu_j = mu_j and dKL/dlog_var_j = ½ (e^log_var_j − 1) = ½ (σ_j² − 1), the same expm1 again. "
        "Each example's KL is scaled by its own d_kl: a (batch,) array must multiply rows, so reshape it to (batch, 1).",
        "kl_standard_normal: 0.5 * np.sum(mu**2 + np.expm1(log_var) - log_var, axis=-1). "
        "kl_standard_normal_backward: d = d_kl[:, None] if d_kl is an array (else d_kl); d_mu = d * mu, "
        "d_log_var = d * 0.5 * np.expm1(log_var).",
    ),
    "bernoulli": (
        "Forward: with p = sigmoid(l), write log p and log(1 − p) in terms of softplus (log p = −log(1 + e^−l)), "
        "so that p itself is never formed. Backward: differentiate the result with respect to one logit.",
        "−log p(x|l) = Σ_d [softplus(l_d) − x_d l_d], because softplus(l) − softplus(−l) = l. "
        "Its derivative in l_d is softplus'(l_d) − x_d.",
        "bernoulli_nll: np.sum(softplus(logits) - x * logits, axis=-1). bernoulli_nll_backward: "
        "d_logits = d_nll[:, None] * (sigmoid(logits) - x) (d_nll as it is when it is a scalar).",
    ),
    "gaussian_nll": (
        "Differentiate one pixel's term ½ [(x − m)² e^−log_var + log_var + log 2π] with respect to the mean m, "
        "then with respect to log_var (write 1/σ² as e^−log_var first).",
        "d/dm = (m − x) / σ² and d/dlog_var = ½ (1 − (x − m)² / σ²). Each example is scaled by its own d_nll; "
        "log_var is shared by the whole batch, so its gradient adds up over the batch (axis 0).",
        "d = d_nll[:, None] (or the scalar); d_mean = d * (mean - x) * np.exp(-log_var); "
        "d_log_var = np.sum(d * 0.5 * (1 - (x - mean)**2 * np.exp(-log_var)), axis=0).",
    ),
    "adam": (
        "Write Algorithm 1 line by line: the two moment updates, then the two bias corrections (they use this "
        "step's t), then the step.",
        "On the first step, m = (1 − ρ₁) g and v = (1 − ρ₂) g², so m̂ = g and v̂ = g² exactly: the step is "
        "−lr · g / (|g| + δ), of size lr. Check yours does that. δ is added after the square root.",
        "b1, b2 = betas; m = b1*m + (1-b1)*grad; v = b2*v + (1-b2)*grad**2; m_hat = m/(1-b1**t); v_hat = v/(1-b2**t); "
        "param = param - lr*m_hat/(np.sqrt(v_hat) + epsilon); return param, m, v.",
    ),
    "iw_bound": (
        "log (1/K) Σ_k e^(a_k) overflows when the a_k are large (e^800 is inf) and gives log 0 when they are very "
        "negative. Take e^max out of the sum: it cancels, and every term left is at most 1.",
        "log mean_k e^(a_k) = m + log mean_k e^(a_k − m), with m = max_k a_k. For the bound, a_k = log w_k = "
        "log p(x|z_k) + log p(z_k) − log q(z_k|x): a mean of the weights, not a sum (that is log K larger).",
        "log_mean_exp: m = np.max(a, axis=axis, keepdims=True); return np.squeeze(m, axis) + "
        "np.log(np.mean(np.exp(a - m), axis=axis)). iw_bound: log_mean_exp(log_px_z + log_pz - log_qz, axis=0).",
    ),
    "vae_backward": (
        "mu is used twice: by the sampler (z = mu + σ eps) and by the KL. The chain rule over a variable used "
        "twice adds the gradients of its uses. The same holds for log_var.",
        "dL/dmu = d_mu_z + d_mu_kl and dL/dlog_var = d_log_var_z + d_log_var_kl. h was built as [mu | log_var]: "
        "lay the gradient out the same way, mu's half first.",
        "encoder_gradient: np.concatenate([d_mu_z + d_mu_kl, d_log_var_z + d_log_var_kl], axis=1).",
    ),
    "softmax_cross_entropy": (
        "Forward first: e^(1e4) overflows. Adding the same constant c to every logit of a row changes no "
        "probability (e^c cancels in the ratio): take c = −(the row's largest logit). Backward: write "
        "ce = −log p_y = −l_y + log Σ_j e^(l_j) and differentiate it with respect to one logit l_k.",
        "log p_k = (l_k − m) − log Σ_j e^(l_j − m) with m = max_j l_j: every e^(l_j − m) <= 1 and one is exactly 1. "
        "softmax = exp(log_softmax), and ce = −Σ_k t_k log p_k, from log_softmax, never log(softmax). "
        "d(log Σ_j e^(l_j))/dl_k = e^(l_k) / Σ_j e^(l_j) = p_k, and d(−l_y)/dl_k is −1 for k = y, 0 otherwise.",
        "log_softmax: s = logits - np.max(logits, axis=-1, keepdims=True); return s - np.log(np.sum(np.exp(s), "
        "axis=-1, keepdims=True)). softmax: np.exp(log_softmax(logits)). cross_entropy: -np.sum(y_one_hot * "
        "log_softmax(logits), axis=-1). cross_entropy_backward: d = d_ce[:, None] if an array (else d_ce); "
        "d_logits = d * (softmax(logits) - y_one_hot).",
    ),
    "unlabelled_bound": (
        "u is linear in each L(x, y): its derivative there is a weight. For the logits, write u = Σ_y q_y (L_y + log q_y) "
        "(−H adds Σ q log q) and differentiate through q_y = softmax(l)_y, with dq_y/dl_k = q_y (δ_yk − q_k); the "
        "extra term from d log q_y = dq_y / q_y sums to zero because Σ_y q_y = 1.",
        "du/dL_y = q_y. du/dl_k = Σ_y (L_y + log q_y) q_y (δ_yk − q_k) = q_k (L_k + log q_k) − q_k Σ_y q_y (L_y + log q_y), "
        "and that last sum is u itself. Each example is scaled by its own d_u: reshape a (batch,) array to (batch, 1).",
        "q = softmax(logits); log_q = log_softmax(logits); u = np.sum(q * losses, axis=-1) "
        "- entropy(logits). Backward: d = d_u[:, None] if an array (else d_u); d_losses = d * q; "
        "d_logits = d * q * (losses + log_q - u[:, None]).",
    ),
}


def shown(directory):
    """{exercise: number of hints shown} from the workbook's state file ({} if there is none or it is unreadable)."""
    try:
        state = json.loads((Path(directory) / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict):
        return {}
    return {k: v for k, v in state.items() if k in HINTS and isinstance(v, int) and not isinstance(v, bool) and v >= 0}


def next_hints(directory, name):
    """Reveal the next hint of ``name``; return the hints shown so far, numbered from 1 (the last one again at the end)."""
    state = shown(directory)
    count = min(state.get(name, 0) + 1, len(HINTS[name]))
    state[name] = count
    text = json.dumps(state, indent=1, sort_keys=True) + "\n"
    atomic_write(Path(directory) / STATE, lambda f: f.write(text.encode()))
    return list(enumerate(HINTS[name][:count], start=1))
