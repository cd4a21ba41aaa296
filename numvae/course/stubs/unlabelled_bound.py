import numpy as np

# numvae's own: q(y|x) = softmax(logits), its log, and its entropy H(q) = −Σ_y q_y log q_y
from numvae.categorical import entropy, log_softmax, softmax


def unlabelled_loss(losses, logits):
    """M2's loss for an image without a label, one number per example.

    The label y is a latent variable: the classifier's q(y|x) = softmax(logits)
    weighs the labelled loss L(x, y) of every class y (the −ELBO of the pair
    (x, y), computed for each class by the rest of the model), and its
    entropy H(q) is subtracted:

        u(x) = Σ_y q(y|x) L(x, y) − H(q(y|x))

    −u(x) is Kingma et al.'s bound U(x) (2014, eq. 7): −u(x) <= log p(x).

    Parameters
    ----------
    losses : ndarray, shape (batch, n_classes)
        L(x, y) for every class y.
    logits : ndarray, shape (batch, n_classes)
        The classifier's.

    Returns
    -------
    u : ndarray, shape (batch,), in nats

    `check` verifies: shape (batch,), the same result twice for the same
    inputs; u(x) = L(x, y) (to a relative 1e-14) when q(y|x) is one-hot on a
    class y (logits of ±1e3), for 2 and 10 classes; on a small linear-Gaussian
    model with a label (3 classes), whose log p(x) is known exactly:
    −u(x) <= log p(x) for the exact L(x, y) of any q(z|x,y) and any logits,
    and −u(x) = log p(x) (to 1e-10) when q(z|x,y) and q(y|x) are the exact
    posteriors.
    """
    raise NotImplementedError("unlabelled_loss: not implemented yet")


def unlabelled_loss_backward(d_u, losses, logits):
    """The gradients of the loss with respect to the per-class losses and the logits, given d_u = dL/du.

    The logits reach u through q(y|x) twice: in the weights of the sum and in
    the entropy. This gradient is how the images without a label train the
    classifier.

    Parameters
    ----------
    d_u : ndarray of shape (batch,) (one number per example), or a scalar
    losses, logits : ndarray, shape (batch, n_classes)

    Returns
    -------
    (d_losses, d_logits) : a tuple of two arrays of shape (batch, n_classes)

    `check` verifies: both match central differences of sum(d_u * u)
    (relative error < 1e-6) for a per-example d_u, at batches of 1 to 3
    examples and 2 to 10 classes (losses about 50 ± 10, logits about 0 ± 2).
    """
    raise NotImplementedError("unlabelled_loss_backward: not implemented yet")
