"""Training the semi-supervised models: label draws, the M2 loop, and M1+M2 end to end.

* :func:`draw_labelled` — which training images keep their label (``per_class`` of each class);
* :func:`fit_m2` — the M2 training loop: every step one batch of unlabelled images
  and one of labelled ones, ``loss``, ``backward``, Adam's ``step``;
* :class:`M1M2` — Kingma et al.'s stacked model (arXiv:1406.5298, section 2.3):
  a VAE (M1) trained on all images without labels, then M2 on its mean codes
  with a Gaussian likelihood of learned variance.

The math is in :mod:`numvae.m2` and :mod:`numvae.vae`; this is the loop around it.
"""

import math

import numpy as np

from ..data.binarization import binarize
from ..m2 import M2
from ..optim import Adam
from ..util import checks
from ..vae import VAE
from .config import TrainConfig
from .trainer import Trainer


def draw_labelled(y, per_class, rng, n_classes=10):
    """Indices of ``per_class`` images of each class of ``y``, drawn without replacement, class by class.

    Raises ValueError naming ``per_class`` if a class has fewer images than that.
    """
    per_class = checks.positive_int("per_class", per_class)
    counts = np.bincount(y, minlength=n_classes)
    if per_class > counts.min():
        raise ValueError(f"per_class: expected at most {counts.min()} (the smallest class's count), got {per_class}")
    return np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(n_classes)])


def fit_m2(model, x_labelled, y_labelled, x_unlabelled, epochs, *, batch_size=100, lr=1e-3, binarize_method="none",
           seed=0, on_epoch=None):
    """Train ``model`` (an :class:`~numvae.m2.M2`) for ``epochs`` passes over the unlabelled images.

    Each step takes the next ``batch_size`` unlabelled images (shuffled every
    epoch) and ``min(batch_size, n_labelled)`` labelled ones drawn afresh, so
    the few labelled images are seen in every step. ``binarize_method``
    ("dynamic" for a Bernoulli model of grey pixels) draws new bits every epoch.
    ``on_epoch(epoch, terms)`` is called after each epoch with the mean of the
    epoch's :class:`~numvae.m2.M2Terms`. Returns the optimizer.
    """
    epochs = checks.positive_int("epochs", epochs)
    batch_size = checks.positive_int("batch_size", batch_size)
    rng = np.random.default_rng(checks.non_negative_int("seed", seed))
    optimizer = Adam(model.parameters(), lr=lr)
    n_u, n_l = len(x_unlabelled), len(x_labelled)
    steps = math.ceil(n_u / batch_size)
    for epoch in range(1, epochs + 1):
        x_u = binarize(x_unlabelled, binarize_method, rng=rng)
        x_l = binarize(x_labelled, binarize_method, rng=rng)
        order = rng.permutation(n_u)
        totals = np.zeros(4)
        for step in range(steps):
            batch = order[step * batch_size:(step + 1) * batch_size]
            labelled = rng.choice(n_l, min(batch_size, n_l), replace=False)
            terms = model.loss(x_l[labelled], y_labelled[labelled], x_u[batch])
            if not math.isfinite(terms.loss):
                raise FloatingPointError(f"M2's training loss became {terms.loss} at epoch {epoch}, step {step + 1}")
            optimizer.step(model.backward())
            totals += np.array(terms) * len(batch)
        if on_epoch is not None:
            on_epoch(epoch, dict(zip(terms._fields, totals / n_u)))
    return optimizer


class M1M2:
    """M1+M2: a VAE's mean codes of every image, and M2 on those codes.

    1. M1: a Bernoulli :class:`~numvae.vae.VAE` with ``m1_latent_dim`` = 50
       trained on all training images (no labels), dynamically binarized.
    2. Every image becomes the mean of q(z|x), a vector of 50 numbers.
    3. M2 on the codes, with a Gaussian likelihood and a learned per-feature σ
       (codes are real numbers, not pixels), trained by :func:`fit_m2` with
       Adam's learning rate 3e-3: at 1e-3 the accuracy on held-out training
       images is still rising after 100 epochs (100 labels per class); at
       3e-3 it levels off by epoch 50. The label weight α = 1 was chosen the
       same way, on 1,000 training images held out of M2's training: it
       scored best of 0.3, 1 and 10 at 10 labels per class, and of 0.3, 1,
       10, 100 and 400 at 100 (``benchmarks/README.md``). The paper's α = 0.1·N, with N the
       labelled images, would give 10 and 100.

    Parameters
    ----------
    m1_hidden_dims, m1_latent_dim, m1_epochs : the VAE's size and training
    m2_hidden_dims, m2_latent_dim, m2_epochs, alpha : M2's size, training and label weight
    seed : int
        Seeds the VAE, M2 and both training loops.
    """

    def __init__(self, m1_hidden_dims=(400,), m1_latent_dim=50, m1_epochs=100, m2_hidden_dims=(256,),
                 m2_latent_dim=20, m2_epochs=100, alpha=1.0, seed=0):
        self.m1_hidden_dims = checks.positive_ints("m1_hidden_dims", m1_hidden_dims)
        self.m1_latent_dim = checks.positive_int("m1_latent_dim", m1_latent_dim)
        self.m1_epochs = checks.positive_int("m1_epochs", m1_epochs)
        self.m2_hidden_dims = checks.positive_ints("m2_hidden_dims", m2_hidden_dims)
        self.m2_latent_dim = checks.positive_int("m2_latent_dim", m2_latent_dim)
        self.m2_epochs = checks.positive_int("m2_epochs", m2_epochs)
        self.alpha = checks.real("alpha", alpha, minimum=0)
        self.seed = checks.non_negative_int("seed", seed)
        self.vae = self.m2 = None

    def fit_m1(self, x_train, x_test=None):
        """Train the VAE on ``x_train`` (grey levels in [0, 1]; labels unused). Returns self."""
        self.vae = VAE(x_train.shape[1], self.m1_hidden_dims, self.m1_latent_dim, dtype=np.float32, seed=self.seed)
        config = TrainConfig(epochs=self.m1_epochs, binarize="dynamic", seed=self.seed)
        Trainer(self.vae, x_train, x_test, config).fit()
        return self

    def codes(self, x):
        """The mean of q(z|x) under the trained VAE, float64, shape (batch, m1_latent_dim)."""
        if self.vae is None:
            raise RuntimeError("codes() called before fit_m1(): train the VAE first")
        return self.vae.encode(x)[0].astype(np.float64)

    def fit_m2(self, x_labelled, y_labelled, x_unlabelled, on_epoch=None):
        """Train M2 on the codes of the images given (a trained M1 is needed). Returns self."""
        self.m2 = M2(self.m1_latent_dim, 10, self.m2_hidden_dims, self.m2_latent_dim, likelihood="gaussian",
                     alpha=self.alpha, learn_sigma=True, seed=self.seed)
        fit_m2(self.m2, self.codes(x_labelled), y_labelled, self.codes(x_unlabelled), self.m2_epochs, lr=3e-3,
               seed=self.seed, on_epoch=on_epoch)
        return self

    def fit(self, x_labelled, y_labelled, x_unlabelled):
        """Both steps: M1 on ``x_unlabelled``, then M2 on the codes. Returns self."""
        return self.fit_m1(x_unlabelled).fit_m2(x_labelled, y_labelled, x_unlabelled)

    def predict(self, x):
        """The most probable class under M2's q(y|x) of the codes of ``x``, shape (batch,)."""
        if self.m2 is None:
            raise RuntimeError("predict() called before fit(): train the model first")
        return self.m2.predict(self.codes(x))
