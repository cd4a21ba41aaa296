"""
==========================================
6. Semi-supervised learning with VAE codes
==========================================

Labels are expensive, images are cheap. The "M1" model of Kingma, Rezende,
Mohamed & Welling ("Semi-Supervised Learning with Deep Generative Models",
NeurIPS 2014, arXiv:1406.5298) uses the cheap part first: train a VAE on all
images without labels, then train a small classifier on the VAE's codes using
the few labelled images there are. Here the classifier is a multinomial
logistic regression written by hand (softmax, cross-entropy, its gradient,
checked), and we ask the honest question: do 20 learned numbers per image
beat the 784 raw pixels when only 10, 50 or 100 labels per class are known?
"""

# %% [markdown]
# ## Setup

# %%
import numpy as np
from matplotlib.figure import Figure

import numvae
from numvae.data import load_dataset
from numvae.train import TrainConfig, Trainer

# lecture.py, next to this file, is plumbing only: fast mode and where figures go.
from lecture import FAST, save

rng = np.random.default_rng(1406)
epochs = 1 if FAST else 30
classifier_steps = 60 if FAST else 300
n_draws = 1 if FAST else 5  # independent draws of the labelled set, for error bars
LABELS_PER_CLASS = (10, 50, 100)
N_CLASSES = 10

data = load_dataset("mnist5k")
x_train, y_train = data.x_train, data.y_train  # (4000, 784), (4000,): 400 images per class
x_test, y_test = data.x_test, data.y_test  # (1000, 784), (1000,)

# %% [markdown]
# ## 1. Unsupervised step: a VAE on all 4,000 images, no labels
#
# Exactly the model of lecture 4. Nothing in its training looks at
# ``y_train``.

# %%
vae = numvae.VAE(input_dim=784, hidden_dims=(400,), latent_dim=20, dtype=np.float32, seed=0)
history = Trainer(vae, x_train, x_test, TrainConfig(epochs=epochs, seed=0)).fit()
print(f"VAE after {epochs} epochs: test loss {history['test_loss'][-1]:.1f} nats")

# The features: the mean of q(z|x) for every image. Float64 for the classifier,
# which is small enough that precision costs nothing.
features_train = vae.encode(x_train)[0].astype(np.float64)  # (4000, 20)
features_test = vae.encode(x_test)[0].astype(np.float64)  # (1000, 20)
pixels_train, pixels_test = x_train.astype(np.float64), x_test.astype(np.float64)  # (4000, 784), (1000, 784)
print("features:", features_train.shape, " pixels:", pixels_train.shape)

# %% [markdown]
# ## 2. Multinomial logistic regression, by hand
#
# For features $x \in \mathbb R^d$ (a row), weights $W$ of shape
# $(d, 10)$ and biases $b$ of shape $(10,)$, the model gives class
# probabilities through the softmax of the logits $\ell = xW + b$:
#
# $$p(y = c \mid x) = \frac{e^{\ell_c}}{\sum_{c'} e^{\ell_{c'}}}.$$
#
# We minimise the mean cross-entropy plus a small L2 penalty on $W$,
#
# $$L = -\frac1n \sum_{i=1}^n \log p(y_i \mid x_i) + \frac\lambda2 \|W\|^2 .$$
#
# The gradient is one of the nicest results in machine learning: with $P$ the
# $(n, 10)$ matrix of probabilities and $Y$ the one-hot labels,
#
# $$\frac{\partial L}{\partial \ell} = \frac1n (P - Y), \qquad
#   \frac{\partial L}{\partial W} = X^\top \frac{P - Y}{n} + \lambda W, \qquad
#   \frac{\partial L}{\partial b} = \textstyle\sum_i \frac{(P - Y)_i}{n},$$
#
# the last two by the same rule as the Dense layer of lecture 1. The softmax
# subtracts the largest logit of each row first: that changes nothing
# mathematically (it cancels in the ratio) but keeps ``exp`` from
# overflowing, the same trick as numvae's stable sigmoid and log-mean-exp.

# %%
L2_PENALTY = 1e-2  # λ, the same for every feature set, so the comparison is fair


def log_softmax(logits):
    """Row-wise log p(y = c | x) of shape (n, n_classes), without overflow."""
    shifted = logits - logits.max(axis=1, keepdims=True)  # (n, n_classes), largest entry 0
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def classifier_loss(params, x, y):
    """Mean cross-entropy + λ/2 ||W||² (a float), and the probabilities (n, n_classes)."""
    log_p = log_softmax(x @ params["W"] + params["b"])  # (n, n_classes)
    loss = -np.mean(log_p[np.arange(len(y)), y]) + 0.5 * L2_PENALTY * np.sum(params["W"] ** 2)
    return float(loss), np.exp(log_p)


def classifier_gradients(params, x, y, probabilities):
    """Gradients of ``classifier_loss``, same keys and shapes as ``params``."""
    d_logits = probabilities.copy()  # (n, n_classes): P ...
    d_logits[np.arange(len(y)), y] -= 1  # ... minus Y (one-hot), without building Y
    d_logits /= len(y)
    return {"W": x.T @ d_logits + L2_PENALTY * params["W"], "b": d_logits.sum(axis=0)}


# %% [markdown]
# Before using the gradient, we check it, in float64, on a small random
# problem, with ``numvae.check_gradients``: the same central differences that
# checked the VAE in lecture 1.

# %%
x_small = rng.standard_normal((8, 5))  # (n, d)
y_small = rng.integers(0, 3, size=8)  # 3 classes
small = {"W": rng.standard_normal((5, 3)), "b": rng.standard_normal(3)}
_, probabilities = classifier_loss(small, x_small, y_small)
analytic = classifier_gradients(small, x_small, y_small, probabilities)
report = numvae.check_gradients(lambda: classifier_loss(small, x_small, y_small)[0], small, analytic)
print(report.assert_close(1e-6))

# %% [markdown]
# The analytic gradient agrees with the numerical one to about $10^{-10}$.
# Now the training loop. The loss is convex in $(W, b)$, so any reasonable
# optimizer finds the same minimum; we reuse ``numvae.Adam``, which works on
# any dict of arrays, for a few hundred full-batch steps from $W = 0$.

# %%
def fit_classifier(x, y, steps=classifier_steps, lr=0.05):
    """Fit softmax regression on (x, y); return the parameters and the loss per step."""
    params = {"W": np.zeros((x.shape[1], N_CLASSES)), "b": np.zeros(N_CLASSES)}
    optimizer = numvae.Adam(params, lr=lr)
    losses = []
    for _ in range(steps):
        loss, probabilities = classifier_loss(params, x, y)
        optimizer.step(classifier_gradients(params, x, y, probabilities))  # updates params in place
        losses.append(loss)
    return params, losses


def accuracy(params, x, y):
    return float(np.mean(np.argmax(x @ params["W"] + params["b"], axis=1) == y))


def draw_labelled(per_class):
    """Indices of ``per_class`` training images of every class, drawn without replacement."""
    return np.concatenate([rng.choice(np.flatnonzero(y_train == c), per_class, replace=False)
                           for c in range(N_CLASSES)])


# %% [markdown]
# A first run: 10 labels per class, 100 labelled images in all, and the same
# 100 images described two ways, by their VAE codes and by their pixels.

# %%
labelled = draw_labelled(10)  # (100,) indices into the training set
fits = {"VAE codes (20 numbers)": fit_classifier(features_train[labelled], y_train[labelled]),
        "raw pixels (784 numbers)": fit_classifier(pixels_train[labelled], y_train[labelled])}
tests = {"VAE codes (20 numbers)": features_test, "raw pixels (784 numbers)": pixels_test}
fig = Figure(figsize=(7, 4.2), layout="constrained")
ax = fig.subplots()
for (name, (params, losses)), color in zip(fits.items(), ["C0", "C3"]):
    print(f"{name:25s}: training loss {losses[-1]:.3f}, test accuracy {accuracy(params, tests[name], y_test):.3f}")
    ax.plot(losses, color=color, lw=2, label=name)
ax.set_yscale("log")
ax.set_xlabel("gradient step", fontsize=12)
ax.set_ylabel("training loss (cross-entropy + L2)", fontsize=12)
ax.set_title("Fitting the classifier on 10 labels per class", fontsize=13)
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize=10)
save(fig, "10_classifier_training.png")

# %% [markdown]
# Both losses fall steeply and flatten within about 75 steps (the pixel
# loss overshoots once on the way: Adam's first steps are large), so 300
# steps leave a wide margin. The pixel classifier reaches a lower training
# loss, as it can with 7,850 parameters for 100 examples against 210 for
# the codes, and neither classifier can drive its loss to 0 because of the L2
# penalty. The printed test accuracies are for this one draw of the labels;
# to compare fairly we average over several draws.
#
# ## 3. Accuracy against the number of labels
#
# For each number of labels per class we draw ``n_draws`` labelled sets with
# our ``rng`` and train both classifiers on the same images. For reference,
# we also train on all 4,000 labels. And next to logistic regression we try
# the simplest classifier there is, the nearest labelled neighbour (1-NN),
# which uses nothing but distances: it asks a different question of the
# features, whether *similar images have nearby codes*.

# %%
def nearest_neighbour_accuracy(x_labelled, y_labelled, x, y):
    """Accuracy of predicting each row of x by the label of its closest labelled row."""
    squared_distances = (np.sum(x**2, axis=1)[:, None] - 2 * x @ x_labelled.T
                         + np.sum(x_labelled**2, axis=1)[None, :])  # (n_test, n_labelled)
    return float(np.mean(y_labelled[np.argmin(squared_distances, axis=1)] == y))


feature_sets = {"VAE codes": (features_train, features_test), "pixels": (pixels_train, pixels_test)}
results = {(method, name): np.zeros((len(LABELS_PER_CLASS), n_draws))
           for method in ("logistic", "1-NN") for name in feature_sets}
for row, per_class in enumerate(LABELS_PER_CLASS):
    for draw in range(n_draws):
        labelled = draw_labelled(per_class)  # the same labelled images for every method
        for name, (train, test) in feature_sets.items():
            params, _ = fit_classifier(train[labelled], y_train[labelled])
            results["logistic", name][row, draw] = accuracy(params, test, y_test)
            results["1-NN", name][row, draw] = nearest_neighbour_accuracy(
                train[labelled], y_train[labelled], test, y_test)
all_labels = {name: accuracy(fit_classifier(train, y_train)[0], test, y_test)
              for name, (train, test) in feature_sets.items()}

print("labels/class " + "".join(f"{method + ', ' + name:>22s}" for method, name in results))
for row, per_class in enumerate(LABELS_PER_CLASS):
    print(f"{per_class:12d} " + "".join(f"{acc[row].mean():15.3f} ± {acc[row].std():.3f}" for acc in results.values()))
print("all labels, logistic regression: " + ", ".join(f"{name} {acc:.3f}" for name, acc in all_labels.items()))

# %%
fig = Figure(figsize=(8.5, 5.4), layout="constrained")
ax = fig.subplots()
styles = {("logistic", "VAE codes"): dict(color="C0", marker="o"),
          ("logistic", "pixels"): dict(color="C3", marker="s"),
          ("1-NN", "VAE codes"): dict(color="C0", marker="o", ls="--", mfc="white"),
          ("1-NN", "pixels"): dict(color="C3", marker="s", ls="--", mfc="white")}
for (method, name), acc in results.items():
    ax.errorbar(LABELS_PER_CLASS, acc.mean(axis=1), yerr=acc.std(axis=1), capsize=3, lw=2, ms=6,
                label=f"{method}, {name}", **styles[method, name])
for name, color in [("VAE codes", "C0"), ("pixels", "C3")]:
    ax.axhline(all_labels[name], color=color, lw=1, ls=":")
    ax.text(LABELS_PER_CLASS[0], all_labels[name] + 0.004, f"logistic, {name}, all 400 labels/class",
            color=color, fontsize=9)
ax.set_xscale("log")
ax.set_xticks(LABELS_PER_CLASS, [str(n) for n in LABELS_PER_CLASS])
ax.set_xlabel("labelled images per class", fontsize=12)
ax.set_ylabel("test accuracy (1,000 images)", fontsize=12)
ax.set_title(f"Few labels: VAE codes against raw pixels (mean ± sd of {n_draws} draws)", fontsize=13)
ax.grid(alpha=0.3)
ax.legend(fontsize=10, loc="lower right")
save(fig, "10_accuracy.png")

# %% [markdown]
# Solid lines: logistic regression; dashed: nearest neighbour; blue: VAE
# codes; red: pixels; dotted: logistic regression with all 4,000 labels.
# Everything improves with more labels, as it must. The interesting part is
# the comparison at equal labels:
#
# * With **logistic regression**, the raw pixels win, by three or four
#   points at every label count, and also with all labels. A linear
#   classifier on 784 pixels is already a decent MNIST classifier, and the 20
#   numbers the VAE keeps were chosen to *reconstruct* images, not to make
#   the classes linearly separable: much of their capacity goes to slant,
#   width and stroke thickness, and some class information is lost in the
#   compression.
# * With **nearest neighbour**, the codes win at every label count, and 1-NN
#   on codes is the best of all four methods: level with logistic regression
#   on pixels at 10 labels per class, clearly ahead at 50 and 100. With 100
#   labels per class it even beats logistic regression on pixels trained
#   with all 400. Distances between codes reflect the similarity of digits
#   better than distances between pixel vectors, in which a slightly
#   shifted stroke makes a different image. That is what the unlabelled
#   images taught the VAE.
# * So the answer depends on the classifier. Features learned without labels
#   help when the classifier uses the geometry they were trained to have.
#
# Why not the dramatic gains of the M1 paper? Three differences, each worth
# trying as an exercise: Kingma et al. trained the VAE on 50,000 unlabelled
# images, not 4,000; they used a transductive SVM, a nonlinear classifier
# that also exploits the unlabelled test points; and their best results came
# from stacking a second model, M2, on M1's codes. M2 is a generative model
# trained *with* the labels there are, so that its code is pushed to separate
# the classes.
