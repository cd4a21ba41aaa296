"""Realistic student mistakes through ``numvae exercises check``: the line each gets, and whether its hint is right.

    python scripts/hint_table.py              # a Markdown table, one row per mistake
    python scripts/hint_table.py --max-examples 20

Each mistake is a function a student could write (none is the bug zoo's), put
into a copy of the lecturer's solution of its exercise (the file then
redefines that function, as a student's edit would). The checker grades that
workbook as a student's; ``names`` is a phrase the hint must contain to name
the actual mistake. The table is the evidence behind the hints: a hint that
fires on a mistake it does not describe is worse than none.
"""

import argparse
import tempfile
from pathlib import Path

from numvae.course.catalog import BY_NAME
from numvae.course.checker import check_exercise
from numvae.course.workbook import write_workbook

ADAM = "def adam_step(param, grad, m, v, t, lr, betas=(0.9, 0.999), epsilon=1e-8):\n    b1, b2 = betas\n"

MISTAKES = [
    # (mistake, exercise, the student's code, a phrase the hint must hold to name the mistake)
    ("d_W divided by the batch size", "dense",
     "def dense_backward(d_y, x, W):\n    return x.T @ d_y / len(x), d_y.sum(axis=0), d_y @ W.T\n", "d_W is a sum"),
    ("bias gradient as a mean", "dense",
     "def dense_backward(d_y, x, W):\n    return x.T @ d_y, d_y.mean(axis=0), d_y @ W.T\n", "d_b is a sum"),
    ("transposed weight gradient", "dense",
     "def dense_backward(d_y, x, W):\n    return d_y.T @ x, d_y.sum(axis=0), d_y @ W.T\n", "transpose"),
    ("KL without the ½ in d_log_var", "kl",
     "def kl_standard_normal_backward(d_kl, mu, log_var):\n    d_kl = np.reshape(d_kl, (-1, 1)) if np.ndim(d_kl) else d_kl\n"
     "    return d_kl * mu, d_kl * np.expm1(log_var)\n", "the KL's leading ½"),
    ("KL's leading ½ dropped in forward and backward", "kl",
     "def kl_standard_normal(mu, log_var):\n    return np.sum(mu * mu + np.expm1(log_var) - log_var, axis=-1)\n\n\n"
     "def kl_standard_normal_backward(d_kl, mu, log_var):\n    d_kl = np.reshape(d_kl, (-1, 1)) if np.ndim(d_kl) else d_kl\n"
     "    return 2 * d_kl * mu, d_kl * np.expm1(log_var)\n", "leading ½ is missing"),
    ("the paper's KL formula, exp(t) − 1 − t", "kl",
     "def kl_standard_normal(mu, log_var):\n    return 0.5 * np.sum(mu**2 + np.exp(log_var) - log_var - 1, axis=-1)\n",
     "e^t − 1"),
    ("KL with its sign flipped in forward and backward", "kl",
     "def kl_standard_normal(mu, log_var):\n    return -0.5 * np.sum(mu**2 + np.expm1(log_var) - log_var, axis=-1)\n\n\n"
     "def kl_standard_normal_backward(d_kl, mu, log_var):\n    d_kl = np.reshape(d_kl, (-1, 1)) if np.ndim(d_kl) else d_kl\n"
     "    return -d_kl * mu, -0.5 * d_kl * np.expm1(log_var)\n", "sign is flipped"),
    ("per-example d_kl not given a column axis", "kl",
     "def kl_standard_normal_backward(d_kl, mu, log_var):\n    return d_kl * mu, 0.5 * d_kl * np.expm1(log_var)\n",
     "shape (4, 1)"),
    ("a shape bug at batch size 1 (np.squeeze)", "kl",
     "def kl_standard_normal(mu, log_var):\n"
     "    return np.squeeze(0.5 * np.sum(mu**2 + np.expm1(log_var) - log_var, axis=1, keepdims=True))\n",
     "axis of length 1 was dropped"),
    ("std = exp(log_var) in both passes", "reparameterize",
     "def reparameterize(mu, log_var, eps):\n    std = np.exp(log_var)\n    return mu + std * eps, std\n\n\n"
     "def reparameterize_backward(d_z, eps, std):\n    return d_z, d_z * eps * std\n", "log σ²"),
    ("missing ½ in d_log_var of the sampler", "reparameterize",
     "def reparameterize_backward(d_z, eps, std):\n    return d_z, d_z * eps * std\n", "exp(½·log_var) brings one"),
    ("new noise in the sampler's backward", "reparameterize",
     "def reparameterize_backward(d_z, eps, std):\n    new = np.random.default_rng(0).standard_normal(np.shape(std))\n"
     "    return d_z, 0.5 * d_z * new * std\n", "never new noise"),
    ("the KL path forgotten in the backward wiring", "vae_backward",
     "def encoder_gradient(d_mu_z, d_log_var_z, d_mu_kl, d_log_var_kl):\n"
     "    return np.concatenate([d_mu_z, d_log_var_z], axis=1)\n", "KL's path is missing"),
    ("the mu and log_var KL gradients swapped", "vae_backward",
     "def encoder_gradient(d_mu_z, d_log_var_z, d_mu_kl, d_log_var_kl):\n"
     "    return np.concatenate([d_mu_z + d_log_var_kl, d_log_var_z + d_mu_kl], axis=1)\n", "KL's two gradients are swapped"),
    ("the halves of d_h in the wrong order", "vae_backward",
     "def encoder_gradient(d_mu_z, d_log_var_z, d_mu_kl, d_log_var_kl):\n"
     "    return np.concatenate([d_log_var_z + d_log_var_kl, d_mu_z + d_mu_kl], axis=1)\n", "wrong order"),
    ("naive softplus log(1 + exp(x))", "softplus",
     "def softplus(x):\n    return np.log(1 + np.exp(x))\n", "exp only ever sees"),
    ("naive sigmoid 1/(1 + exp(−x))", "sigmoid",
     "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n", "exp only ever sees"),
    ("sigmoid's derivative evaluated at the input", "sigmoid",
     "def sigmoid_backward(d_y, x, y):\n    return d_y * x * (1 - x)\n", "at the input x"),
    ("tanh backward without the upstream gradient", "tanh",
     "def tanh_backward(d_y, x, y):\n    return 1 - y * y\n", "multiply it by the upstream gradient"),
    ("softplus' as sigmoid of the output", "softplus",
     "def softplus_backward(d_y, x, y):\n    return d_y * sigmoid(y)\n", "sigmoid of the input x"),
    ("Bernoulli NLL through p = sigmoid(l) and log p", "bernoulli",
     "def bernoulli_nll(x, logits):\n    p = sigmoid(logits)\n"
     "    return -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=-1)\n", "never through p"),
    ("Bernoulli NLL as a mean over pixels", "bernoulli",
     "def bernoulli_nll(x, logits):\n    return np.mean(softplus(logits) - x * logits, axis=-1)\n", "a mean over pixels"),
    ("Gaussian NLL without log 2π", "gaussian_nll",
     "def gaussian_nll(x, mean, log_var):\n"
     "    return 0.5 * np.sum((x - mean) ** 2 * np.exp(-log_var) + log_var, axis=-1)\n", "log 2π term is missing"),
    ("Gaussian d_log_var not summed over the batch", "gaussian_nll",
     "def gaussian_nll_backward(d_nll, x, mean, log_var):\n    d_nll = np.reshape(d_nll, (-1, 1)) if np.ndim(d_nll) else d_nll\n"
     "    r = x - mean\n    return -d_nll * r * np.exp(-log_var), d_nll * 0.5 * (1 - r * r * np.exp(-log_var))\n",
     "summed over the batch"),
    ("Adam with δ inside the square root", "adam",
     ADAM + "    m = b1 * m + (1 - b1) * grad\n    v = b2 * v + (1 - b2) * grad**2\n"
     "    return param - lr * (m / (1 - b1**t)) / np.sqrt(v / (1 - b2**t) + epsilon), m, v\n", "under the square root"),
    ("Adam without bias correction", "adam",
     ADAM + "    m = b1 * m + (1 - b1) * grad\n    v = b2 * v + (1 - b2) * grad**2\n"
     "    return param - lr * m / (np.sqrt(v) + epsilon), m, v\n", "without bias correction"),
    ("Adam correcting m only", "adam",
     ADAM + "    m = b1 * m + (1 - b1) * grad\n    v = b2 * v + (1 - b2) * grad**2\n"
     "    return param - lr * (m / (1 - b1**t)) / (np.sqrt(v) + epsilon), m, v\n", "v is not"),
    ("IW bound as the mean of the log-weights", "iw_bound",
     "def iw_bound(log_px_z, log_pz, log_qz):\n    return np.mean(log_px_z + log_pz - log_qz, axis=0)\n",
     "mean of the log-weights"),
    ("IW bound with + log q", "iw_bound",
     "def iw_bound(log_px_z, log_pz, log_qz):\n    return log_mean_exp(log_px_z + log_pz + log_qz, axis=0)\n", "minus sign"),
    ("log-mean-exp without the max shift", "iw_bound",
     "def log_mean_exp(a, axis=0):\n    return np.log(np.mean(np.exp(a), axis=axis))\n", "exp only sees"),
]


def run(max_examples=50):
    """(mistake, exercise, checker line, hint names the mistake) for each mistake."""
    rows = []
    with tempfile.TemporaryDirectory() as solutions:
        write_workbook(solutions, [BY_NAME[e] for e in {m[1] for m in MISTAKES}], solutions=True)
        for mistake, name, code, names in MISTAKES:
            with tempfile.TemporaryDirectory() as directory:
                text = (Path(solutions) / f"{name}.py").read_text()
                (Path(directory) / f"{name}.py").write_text(f"{text}\n\n{code}")
                result = check_exercise(BY_NAME[name], directory, max_examples=max_examples)
                hint = result.message.partition("(hint: ")[2]
                rows.append((mistake, name, result.status, result.message, bool(hint) and names in hint))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=50)
    args = parser.parse_args()
    rows = run(args.max_examples)
    print("| mistake | exercise | checker's line | hint names the mistake |")
    print("|---|---|---|---|")
    for mistake, name, status, message, right in rows:
        print(f"| {mistake} | {name} | {status} {message.replace('|', '/')} | {'yes' if right else 'no'} |")
    print(f"\n{sum(r[4] for r in rows)}/{len(rows)} hints name the mistake; "
          f"{sum(r[2] != 'FAIL' for r in rows)} mistakes passed the check")


if __name__ == "__main__":
    main()
