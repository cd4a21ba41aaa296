# %% [markdown]
# # 7. Dimensionality reduction: the VAE against PCA
#
# Lecture 7 scattered the 2-D codes of a VAE and found the digits sorted by
# class. That is only impressive next to the simplest method that does the
# same job: principal component analysis, the best *linear* map from 784
# pixels to 2 numbers and back. Here we compute PCA by hand, with one SVD,
# put its 2-D embedding of the test images beside the VAE's, and measure
# both in two ways: how well a k-nearest-neighbour classifier recovers the
# labels from the 2 numbers (neither method ever saw a label), and how well
# each reconstructs the image from them. A kNN classifier on the raw pixels
# is the baseline for the first, the mean image for the second.
#
# The VAE differs from PCA in two ways at once: its maps are nonlinear
# networks, and it is variational (a noisy code and a KL term). To tell the
# two apart we add a third method that has only the first: a deterministic
# autoencoder with the VAE's networks, trained on reconstruction alone.

# %% [markdown]
# ## Setup
#
# The 4,000 training images fit PCA and train the VAE; every number is
# measured on the 1,000 test images. In fast mode (``NUMVAE_FAST=1``) a few
# hundred images, one epoch, few bootstrap draws.

# %%
import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patheffects import withStroke

import numvae
from numvae.activations import sigmoid
from numvae.data import load_dataset
from numvae.layers import MLP
from numvae.likelihoods import bernoulli_nll, bernoulli_nll_backward
from numvae.optim import Adam
from numvae.training import TrainConfig, Trainer

# numvae.course.lecture is plumbing only: fast mode and where figures go.
from numvae.course.lecture import FAST, save

rng = np.random.default_rng(1901)  # Pearson, "On lines and planes of closest fit", 1901
epochs = 1 if FAST else 30
seeds = (0, 1) if FAST else (0, 1, 2)
n_bootstrap = 50 if FAST else 2000
k = 5  # neighbours that vote, fixed in advance (not tuned on the test set)
COLORS = matplotlib.colormaps["tab10"].colors

data = load_dataset("mnist5k")
x_train, y_train = data.x_train, data.y_train  # (4000, 784), (4000,)
x_test, y_test = data.x_test, data.y_test  # (1000, 784), (1000,)
if FAST:
    x_train, y_train, x_test, y_test = x_train[:400], y_train[:400], x_test[:200], y_test[:200]

# %% [markdown]
# ## 1. PCA by hand
#
# PCA looks for the directions along which the images vary most *around
# their mean*, so the first step is to centre: subtract the mean training
# image $\bar x$ from every image. Write the centred training images as the
# rows of $X_c$ ($N \times D$) and take its singular value decomposition
#
# $$X_c = U S V^\top, \qquad S = \mathrm{diag}(s_1 \ge s_2 \ge \dots).$$
#
# The columns of $V$ are orthonormal directions in pixel space, and the
# variance of the data along column $j$ is $s_j^2/(N-1)$: the first two
# columns $V_2$ ($D \times 2$) span the plane of largest variance. An image's
# 2-D code and its reconstruction are
#
# $$c = V_2^\top (x - \bar x), \qquad \hat x = \bar x + V_2\, c,$$
#
# and among all rank-2 linear maps this reconstruction has the smallest
# squared error on the training images (Eckart–Young). Without centring, the
# SVD's first direction would mostly point from the origin (a black image)
# to the mean image, spending a whole dimension on what every digit shares;
# we check that too.

# %%
mean_image = x_train.mean(axis=0, dtype=np.float64)  # (784,)
_, s, v_t = np.linalg.svd(x_train - mean_image, full_matrices=False)  # s (784,), v_t (784, 784)
components = v_t[:2].T  # (784, 2): V_2, the two directions of largest variance
explained = s**2 / np.sum(s**2)
print(f"fraction of the variance along the first two directions: "
      f"{explained[0]:.3f} + {explained[1]:.3f} = {explained[:2].sum():.3f}")
codes_check = (x_train - mean_image) @ components  # (n_train, 2)
print("variance of the codes:", np.round(codes_check.var(axis=0, ddof=1), 3),
      " s_j^2 / (N - 1):", np.round(s[:2] ** 2 / (len(x_train) - 1), 3))

_, _, v_t_raw = np.linalg.svd(x_train.astype(np.float64), full_matrices=False)  # no centring
cosine = abs(v_t_raw[0] @ mean_image) / np.linalg.norm(mean_image)
print(f"without centring: |cosine| between the first direction and the mean image = {cosine:.3f}")


def pca_encode(x):
    """(n, 784) images -> (n, 2) PCA codes."""
    return (x - mean_image) @ components


def pca_decode(codes):
    """(n, 2) codes -> (n, 784) reconstructions; values may leave [0, 1]."""
    return mean_image + codes @ components.T


# %% [markdown]
# Two directions hold the fraction of the pixel variance printed above; the
# rest is spread over many more. The variance of the codes equals
# $s_j^2/(N-1)$, as it should. Without centring, the first direction is
# almost parallel to the mean image (cosine printed): it would encode "how
# much ink, in the average places", not how digits differ.
#
# ## 2. The VAE's 2-D codes
#
# The model of lecture 7: a Bernoulli decoder, one hidden layer of 400 units
# each way, ``latent_dim=2``. Its embedding of an image is the posterior mean
# $\mu(x)$. A VAE's embedding depends on the random initialisation and the
# order of the minibatches, so we train it with several seeds and report
# each one; PCA has no such randomness.

# %%
vaes = {}
for seed in seeds:
    vaes[seed] = numvae.VAE(input_dim=784, hidden_dims=(400,), latent_dim=2, dtype=np.float32, seed=seed)
    history = Trainer(vaes[seed], x_train, x_test, TrainConfig(epochs=epochs, binarize="none", seed=seed)).fit()
    print(f"seed {seed}: test loss {history['test_loss'][-1]:.1f} nats after {epochs} epochs")

# %% [markdown]
# **The deterministic autoencoder.** Take the VAE's two networks and remove
# everything variational: the encoder outputs the 2-D code $c(x)$ itself (no
# log-variance head), the decoder maps $c(x)$, not a noisy sample, to logits,
# and the loss is the Bernoulli NLL of the reconstruction alone (no KL):
#
# $$	ext{loss}(x) = -\log pig(x \mid z = c(x)ig), \qquad
#   rac{\partial\,	ext{loss}}{\partial\,	ext{logits}} = 	ext{sigmoid}(	ext{logits}) - x .$$
#
# The backward is the decoder's and then the encoder's, as in the VAE without
# the sampler in between. Same hidden layer of 400 ReLU units each way, same
# Adam, learning rate, batch size, number of epochs, grey-level data and
# seeds as the VAE; only the variational part is gone. (A VAE with β = 0 is
# not this model: it still adds noise to the code before decoding.)


# %%
class Autoencoder:
    """x (n, 784) -> code c(x) (n, 2) -> logits (n, 784): the VAE's networks with no sampling and no KL."""

    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.encoder = MLP((784, 400, 2), "relu", rng, np.float32)
        self.decoder = MLP((2, 400, 784), "relu", rng, np.float32)

    def parameters(self):
        return {**self.encoder.parameters("encoder"), **self.decoder.parameters("decoder")}

    def encode(self, x):
        return self.encoder.forward(x, keep_cache=False)  # (n, 2)

    def loss_and_gradients(self, x):
        """Mean Bernoulli NLL over the batch, and its gradient for every parameter."""
        logits = self.decoder.forward(self.encoder.forward(x))  # (batch, 784)
        d_logits = bernoulli_nll_backward(1.0 / len(x), x, logits)  # the mean over the batch
        self.encoder.backward(self.decoder.backward(d_logits), need_d_x=False)
        return float(bernoulli_nll(x, logits).mean()), {**self.encoder.gradients("encoder"),
                                                         **self.decoder.gradients("decoder")}


def train_autoencoder(seed, batch_size=100):
    model = Autoencoder(seed)
    optimizer = Adam(model.parameters(), lr=1e-3)
    shuffle = np.random.default_rng(seed)
    for _ in range(epochs):
        order = shuffle.permutation(len(x_train))
        for first in range(0, len(x_train), batch_size):
            _, gradients = model.loss_and_gradients(x_train[order[first : first + batch_size]])
            optimizer.step(gradients)
    return model


autoencoders = {seed: train_autoencoder(seed) for seed in seeds}
for seed, model in autoencoders.items():
    test_nll = bernoulli_nll(x_test, model.decoder.forward(model.encode(x_test), keep_cache=False)).mean()
    print(f"autoencoder seed {seed}: test reconstruction NLL {test_nll:.1f} nats after {epochs} epochs")

embeddings = {"PCA-2": (pca_encode(x_train), pca_encode(x_test))}
for seed, model in vaes.items():
    embeddings[f"VAE-2 seed {seed}"] = (model.encode(x_train)[0], model.encode(x_test)[0])  # the means μ
for seed, model in autoencoders.items():
    embeddings[f"AE-2 seed {seed}"] = (model.encode(x_train), model.encode(x_test))  # the codes c(x)

# %%
fig = Figure(figsize=(18, 6), layout="constrained")
axes = fig.subplots(1, 3)
for ax, name, title in [(axes[0], f"VAE-2 seed {seeds[0]}", r"VAE: posterior means $\mu(x)$"),
                        (axes[1], f"AE-2 seed {seeds[0]}", r"deterministic autoencoder: codes $c(x)$"),
                        (axes[2], "PCA-2", "PCA: projections on the first two directions")]:
    codes = embeddings[name][1]  # (n_test, 2)
    for label in range(10):
        members = codes[y_test == label]
        ax.scatter(*members.T, s=16, color=COLORS[label], alpha=0.6, linewidths=0)
        if len(members):
            ax.text(*np.median(members, axis=0), str(label), fontsize=16, weight="bold", color=COLORS[label],
                    ha="center", va="center", path_effects=[withStroke(linewidth=3, foreground="white")])
    ax.set_title(title, fontsize=13)
    ax.set_xlabel("first coordinate", fontsize=12)
    ax.set_ylabel("second coordinate", fontsize=12)
    ax.grid(alpha=0.3)
fig.suptitle(f"The same {len(x_test):,} test images in two dimensions; digits at their class medians", fontsize=14)
save(fig, "07_vae_vs_pca.png")

# %% [markdown]
# Left: the VAE's posterior means; middle: the autoencoder's codes; right:
# PCA's two coordinates; one dot per test image, coloured by its label, each
# digit written at its class median. No method saw a label. In the PCA plane the 0s and the 1s sit at
# opposite ends of the first direction (a wide ring against a thin stroke:
# the direction of largest variance is, roughly, "how much ink, and
# where"), the 4s, 7s and 9s share one cloud at one end of the second, and
# 2, 3, 5, 6 and 8 pile up in the middle. In the VAE plane the 0s and 1s
# again have regions of their own, the 2s form a tight knot, the 3s and the
# 7s move apart from the rest, but 4 and 9 still overlap and the 5s and 8s
# sit among their neighbours. The autoencoder's plane (middle, seed 0) is
# sorted in a similar way, with another shape: the 1s run out along an arm
# of their own, the 0s sit apart on the right, 7, 9 and 4 share the top, and
# 2, 3, 5, 6 and 8 crowd a dense knot in the middle. Its axes span a wider
# range than the VAE's: no KL pulls its codes towards $\mathcal N(0, I)$. Both
# networks' pictures look better sorted than PCA's; how much better, in
# numbers, and is the VAE's better than the autoencoder's?
#
# ## 3. k nearest neighbours, by hand
#
# A kNN classifier labels a test point by a vote among the labels of the $k$
# training points closest to it. It learns nothing, so its accuracy measures
# only the embedding: whether images of one class land near each other. We
# embed the training images with each method, classify every test image by
# its $k = 5$ nearest training images (Euclidean distance, ties broken
# towards the smaller label), and do the same on the raw 784 pixels. Squared
# distances come from one matrix product,
# $\lVert a - b\rVert^2 = \lVert a\rVert^2 + \lVert b\rVert^2 - 2\,a\cdot b$.
#
# For uncertainty we bootstrap the test set: draw 1,000 test images with
# replacement, recompute every accuracy on the same draw, and repeat; the
# 2.5% and 97.5% quantiles give a 95% interval, and the *paired*
# differences between methods (same draw) give intervals for the
# differences. Chance is 0.1.

# %%
def knn_predict(train_codes, train_labels, test_codes, k, batch_size=250):
    """Majority vote of the k nearest training codes, for each test code: shape (n_test,)."""
    train_codes = np.asarray(train_codes, dtype=np.float64)
    train_sq = np.sum(train_codes**2, axis=1)  # (n_train,)
    predictions = np.empty(len(test_codes), dtype=np.int64)
    for first in range(0, len(test_codes), batch_size):
        block = np.asarray(test_codes[first : first + batch_size], dtype=np.float64)  # (b, dim)
        distances = train_sq - 2 * block @ train_codes.T  # (b, n_train); ‖a‖² is the same along a row
        nearest = np.argpartition(distances, k, axis=1)[:, :k]  # (b, k), in no particular order
        votes = np.zeros((len(block), 10), dtype=np.int64)
        np.add.at(votes, (np.arange(len(block))[:, None], train_labels[nearest]), 1)
        predictions[first : first + batch_size] = np.argmax(votes, axis=1)  # ties: the smaller label
    return predictions


embeddings_all = {"raw pixels (784)": (x_train, x_test), **embeddings}
correct = {name: knn_predict(train_codes, y_train, test_codes, k) == y_test
           for name, (train_codes, test_codes) in embeddings_all.items()}  # each (n_test,) bool
draws = rng.integers(0, len(y_test), size=(n_bootstrap, len(y_test)))  # bootstrap resamples of the test set
boot = {name: hits[draws].mean(axis=1) for name, hits in correct.items()}  # each (n_bootstrap,)


def interval(values):
    return f"[{np.quantile(values, 0.025):.3f}, {np.quantile(values, 0.975):.3f}]"


print(f"{k}-NN test accuracy (95% bootstrap interval over test images)")
for name, hits in correct.items():
    print(f"  {name:18s} {hits.mean():.3f}  {interval(boot[name])}")
vae_names = [f"VAE-2 seed {seed}" for seed in seeds]
ae_names = [f"AE-2 seed {seed}" for seed in seeds]


def over_seeds(values, digits=3):
    """Mean ± standard error over seeds, and the range, of one number per seed."""
    values = np.asarray(values)
    return (f"mean {values.mean():.{digits}f} ± {values.std(ddof=1) / np.sqrt(len(values)):.{digits}f} "
            f"(min {values.min():.{digits}f}, max {values.max():.{digits}f})")


print(f"  over {len(seeds)} seeds, mean ± standard error over seeds:")
for method, names in [("VAE-2", vae_names), ("AE-2", ae_names)]:
    print(f"    {method}: {over_seeds([correct[name].mean() for name in names])}")
print("paired differences on the same test images, 95% bootstrap intervals:")
for vae_name, ae_name in zip(vae_names, ae_names):
    for first, second in [(vae_name, "PCA-2"), (ae_name, "PCA-2"), (vae_name, ae_name), ("raw pixels (784)", vae_name)]:
        print(f"  {first:>16s} minus {second:12s} {correct[first].mean() - correct[second].mean():+.3f}  "
              f"{interval(boot[first] - boot[second])}")
vae_minus_ae = np.array([correct[v].mean() - correct[a].mean() for v, a in zip(vae_names, ae_names)])
print(f"VAE-2 minus AE-2, seed by seed {np.round(vae_minus_ae, 3)}: {over_seeds(vae_minus_ae)}")

# %% [markdown]
# Three levels. With two numbers per image, kNN on the VAE's codes is right
# more often than on PCA's, by 10 to 15 points depending on the seed (the
# paired differences and their 95% intervals are printed, and no interval
# reaches 0). The seeds differ from each other by several points too: a
# VAE's embedding is one draw from a distribution of embeddings, and one
# seed alone would have misstated the gap. The autoencoder beats PCA by as
# much, 11 to 14 points. Between the two networks there is no measurable
# difference: seed by seed, the VAE's accuracy minus the autoencoder's is
# −0.034, +0.011 and +0.035 (printed; every interval reaches 0), +0.004 ± 0.020
# over seeds, so whatever the variational part does to the neighbourhoods,
# it is smaller than the spread between seeds. All the 2-D embeddings lose
# badly to kNN on the raw pixels, by 35 to 40 points against the VAE and 50
# against PCA: squeezing 784 numbers into 2 throws away class information
# that a neighbour search in pixel space still finds. The networks lose less
# of it than PCA does, but all of them lose most of it.
#
# ## 4. Reconstruction from two numbers
#
# The second measure is the one PCA optimises: how close the reconstruction
# from the code is to the image. For PCA it is $\bar x + V_2 c$; for the VAE
# the decoder's mean at the posterior mean, ``model.reconstruct(x)``; for the
# autoencoder the decoder's output at its code. We report two numbers per
# method, averaged over test images:
#
# * the squared error $\lVert x - \hat x \rVert^2$ per image, which is what
#   PCA minimises and is meaningful for both;
# * the Bernoulli NLL $-\sum_d [x_d \log \hat x_d + (1-x_d)\log(1-\hat x_d)]$
#   with $\hat x$ read as pixel probabilities, which is what the VAE
#   and the autoencoder minimise. It needs $0 < \hat x_d < 1$. The networks'
#   sigmoid guarantees that (we compute their NLL from the logits);
#   PCA's reconstruction leaves $[0, 1]$ (and the mean image is exactly 0 at
#   pixels that are blank in every training image), so we clip each to
#   $[c, 1-c]$ and choose $c$ where the training images' NLL is smallest, a
#   choice that favours them as much as a clipping can. (Lecture 5 explains why this NLL of
#   grey levels is a score rather than a log-probability; it still compares
#   methods on the same images.)
#
# The baseline is the mean training image, a "reconstruction" that ignores
# the code.

# %%
def bernoulli_score(x, x_hat):
    """Per-image Bernoulli NLL of grey levels x given probabilities x_hat in (0, 1): (n,)."""
    x_hat = np.asarray(x_hat, dtype=np.float64)
    return bernoulli_nll(x.astype(np.float64), np.log(x_hat) - np.log1p(-x_hat))  # logits


def clipped_for_bernoulli(name, train_reconstruction, test_reconstruction):
    """Clip to [c, 1 - c], with c chosen from a grid where the training NLL is smallest."""
    clips = 10.0 ** np.arange(-6, -0.5, 0.25)
    train_scores = [bernoulli_score(x_train, np.clip(train_reconstruction, c, 1 - c)).mean() for c in clips]
    best = clips[int(np.argmin(train_scores))]
    print(f"{name}: clip chosen on the training images c = {best:.2g}")
    return np.clip(test_reconstruction, best, 1 - best)


pca_train, pca_test = pca_decode(pca_encode(x_train)), pca_decode(pca_encode(x_test))  # (n, 784) each
print(f"PCA reconstructions: {np.mean((pca_test < 0) | (pca_test > 1)):.3f} of the test pixels outside [0, 1]")
mean_rows = np.broadcast_to(mean_image, x_test.shape)  # (n_test, 784), the same row repeated
reconstructions = {
    "mean image": clipped_for_bernoulli("mean image", np.broadcast_to(mean_image, x_train.shape), mean_rows),
    "PCA-2": clipped_for_bernoulli("PCA-2", pca_train, pca_test),
}
squared_errors = {"PCA-2 (unclipped)": np.sum((x_test - pca_test) ** 2, axis=1)}
scores = {}
for name, x_hat in reconstructions.items():
    squared_errors[name] = np.sum((x_test - x_hat) ** 2, axis=1)  # (n_test,)
    scores[name] = bernoulli_score(x_test, x_hat)  # (n_test,)
# The networks' NLL comes from their logits, as in training: a confident float32 sigmoid rounds to exactly
# 0 or 1 (the autoencoder's do), and log(0) would follow.
decoder_logits = {
    **{f"VAE-2 seed {seed}": model.decoder.forward(model.encode(x_test)[0], keep_cache=False)
       for seed, model in vaes.items()},  # decoded at the posterior mean, as model.reconstruct does
    **{f"AE-2 seed {seed}": model.decoder.forward(model.encode(x_test), keep_cache=False)
       for seed, model in autoencoders.items()},
}  # each (n_test, 784)
for name, logits in decoder_logits.items():
    logits = logits.astype(np.float64)
    squared_errors[name] = np.sum((x_test - sigmoid(logits)) ** 2, axis=1)  # (n_test,)
    scores[name] = bernoulli_nll(x_test.astype(np.float64), logits)  # (n_test,)
print("per test image, mean ± standard error          squared error     Bernoulli NLL (nats)")
for name, errors in squared_errors.items():
    nll = ""
    if name in scores:
        nll = f"{scores[name].mean():8.1f} ± {scores[name].std(ddof=1) / np.sqrt(len(y_test)):.1f}"
    print(f"  {name:26s}  {errors.mean():17.2f} ± {errors.std(ddof=1) / np.sqrt(len(y_test)):.2f}   {nll}")
for name in vae_names + ae_names:
    paired = squared_errors["PCA-2 (unclipped)"] - squared_errors[name]  # (n_test,), same images
    standard_error = paired.std(ddof=1) / np.sqrt(len(paired))
    print(f"  PCA-2 minus {name}, squared error: {paired.mean():.2f} ± {standard_error:.2f}")
for measure, per_image in [("squared error", squared_errors), ("Bernoulli NLL", scores)]:
    for method, names in [("VAE-2", vae_names), ("AE-2", ae_names)]:
        print(f"  {measure}, {method} over {len(seeds)} seeds: {over_seeds([per_image[name].mean() for name in names], 2)}")
    differences = [per_image[v].mean() - per_image[a].mean() for v, a in zip(vae_names, ae_names)]
    print(f"  {measure}, VAE-2 minus AE-2 seed by seed {np.round(differences, 2)}: {over_seeds(differences, 2)}")

# %% [markdown]
# PCA's reconstruction is better than the mean image by the fraction of
# variance its two directions explain (17%), and on the training images no
# linear map through two numbers does better. Both networks reconstruct the
# test images with a smaller squared error than PCA, by 5.5 to 6.3 per image
# on every seed (the paired differences are printed with their standard
# errors), although squared error is the very quantity PCA minimises and
# neither network looks at. By the Bernoulli NLL, the networks' own
# criterion, they lead by about 20 nats per image (printed), even with PCA's
# clipping chosen in its favour; PCA in turn beats the mean image by both
# measures. Between the VAE and the autoencoder the differences are a
# fraction of a unit: the VAE's squared error is higher by 0.29 ± 0.24 and
# its NLL by 0.76 ± 0.66 nats (means over seeds ± standard error, printed),
# with one seed of the three going the other way on both. If the noise and
# the KL cost the VAE anything in reconstruction here, it is less than a
# nat per image, and three seeds cannot tell it from zero.
#
# **What the numbers support.** From two numbers per image, a nonlinear
# encoder and decoder keep more of what distinguishes the classes (kNN
# accuracy) and more of the image itself (squared error, NLL) than the best
# linear projection, on every seed we trained. The deterministic
# autoencoder, with the same networks and no variational part, gains as
# much: the gain over PCA comes from the nonlinear networks, not from the
# VAE's noise and KL term, which neither help nor measurably hurt on these
# two measures (three seeds each). What the variational part buys lies
# elsewhere: a prior to sample new images from and codes kept near
# $\mathcal N(0, I)$ (lectures 3 and 7), which an autoencoder's codes, spread over
# whatever range training left them, do not offer. Neither network comes
# close to what kNN finds in the raw pixels: two dimensions are a picture,
# not a replacement for the data. And PCA costs one SVD, with no seed and no
# training, which is why it is the baseline to beat. The comparison holds
# for two dimensions; with more, the gap has to be measured again, and it
# need not stay this large.


# %% [markdown]
# ## Exercises for this lecture
#
# Write the pieces of the VAE this lecture compares with PCA (PCA itself is one
# SVD, no exercise) yourself, then check it (`numvae exercises hint week7 NAME`
# gives a hint at a time, from what to differentiate to the formula):
#
# ```bash
# numvae exercises start week7 --only dense,reparameterize,kl,bernoulli
# numvae exercises check week7
# ```
#
# **Questions.**
#
# 1. PCA is the best linear projection for squared error. In what sense can a
#    VAE with a 2-D code do better, and what does it pay for that?
# 2. Why are the kNN accuracies compared with bootstrap intervals over seeds,
#    not as single numbers?
#
# **Numerical questions**, graded by `numvae exercises check week7 questions`:
# write each answer as a number in the workbook's `questions.py` (a relative
# 1e-3 is enough unless it says otherwise).
#
# - `pca_q1`: Data with covariance diag(4, 1): what fraction of the variance
#   does 1-D PCA keep?
