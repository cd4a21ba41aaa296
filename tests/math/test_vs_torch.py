"""numvae's loss and hand-written gradients against PyTorch's autograd, on the same weights.

A second, independent oracle beside the central differences of ``gradcheck``
(as micrograd's tests do). Runs only where PyTorch is installed
(``pip install torch==2.13.0``); never timed.
"""

import numpy as np
import pytest

from numvae.vae import VAE

torch = pytest.importorskip("torch")


def _torch_loss(params, x, eps, latent_dim, beta):
    """The VAE loss written with torch operations, from numvae's parameter dict."""
    h = torch.relu(x @ params["encoder.0.W"] + params["encoder.0.b"])
    out = h @ params["encoder.1.W"] + params["encoder.1.b"]
    mu, log_var = out[:, :latent_dim], out[:, latent_dim:]
    z = mu + torch.exp(0.5 * log_var) * eps
    logits = torch.relu(z @ params["decoder.0.W"] + params["decoder.0.b"]) @ params["decoder.1.W"] + params["decoder.1.b"]
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())
    return (bce + beta * kl) / x.shape[0]


@pytest.mark.parametrize("beta", [1.0, 0.3])
def test_loss_and_gradients_match_pytorch(beta):
    rng = np.random.default_rng(7)
    model = VAE(12, (9,), 3, beta=beta, dtype=np.float64, seed=3)
    x = rng.random((6, 12))
    eps = rng.standard_normal((6, 3))
    terms = model.loss(x, eps)
    grads = model.backward()

    params = {k: torch.tensor(v, requires_grad=True) for k, v in model.parameters().items()}
    loss = _torch_loss(params, torch.tensor(x), torch.tensor(eps), 3, beta)
    loss.backward()

    np.testing.assert_allclose(terms.loss, loss.item(), rtol=1e-12)
    for name, p in params.items():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
