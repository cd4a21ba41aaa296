# %% [markdown]
# # 10. Semi-supervised learning with VAE codes
#
# Labels are expensive, images are cheap. The "M1" model of Kingma, Rezende,
# Mohamed & Welling ("Semi-Supervised Learning with Deep Generative Models",
# NeurIPS 2014, arXiv:1406.5298) uses the cheap part first: train a VAE on all
# images without labels, then train a small classifier on the VAE's codes using
# the few labelled images there are. Here the classifier is a multinomial
# logistic regression written by hand (softmax, cross-entropy, its gradient,
# checked), and we ask the honest question twice: do 20 learned numbers per
# image beat the 784 raw pixels when only 10, 50 or 100 labels per class are
# known, and do they beat the simplest *unsupervised* 20 numbers, the first 20
# principal components, which also use the unlabelled images but learn nothing
# nonlinear?

# %% [markdown]
# ## Setup

# %%
import numpy as np
from matplotlib.figure import Figure

import numvae
from numvae.data import load_dataset
from numvae.training import TrainConfig, Trainer

# lecture.py, next to this file, is plumbing only: fast mode and where figures go.
from lecture import FAST, save

rng = np.random.default_rng(1406)
epochs = 1 if FAST else 30
classifier_steps = 40 if FAST else 100
n_draws = 2 if FAST else 10  # independent draws of the labelled set, for paired comparisons
PENALTIES = (1e-3, 1e-2, 1e-1) if FAST else (1e-4, 1e-3, 1e-2, 1e-1, 1.0)  # candidate λ, chosen by cross-validation
N_FOLDS = 2 if FAST else 3
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
history = Trainer(vae, x_train, x_test, TrainConfig(epochs=epochs, binarize="none", seed=0)).fit()
print(f"VAE after {epochs} epochs: test loss {history['test_loss'][-1]:.1f} nats")

# The features: the mean of q(z|x) for every image. Float64 for the classifier,
# which is small enough that precision costs nothing.
features_train = vae.encode(x_train)[0].astype(np.float64)  # (4000, 20)
features_test = vae.encode(x_test)[0].astype(np.float64)  # (1000, 20)
pixels_train, pixels_test = x_train.astype(np.float64), x_test.astype(np.float64)  # (4000, 784), (1000, 784)
print("features:", features_train.shape, " pixels:", pixels_train.shape)

# %% [markdown]
# ## 1b. The unsupervised linear baseline: 20 principal components
#
# Before crediting the VAE with anything, the simplest competitor that also
# learns from the unlabelled images: principal component analysis. Centre the
# 4,000 training images, $\tilde X = X - \bar x$, take the singular value
# decomposition $\tilde X = U S V^\top$, and keep the first 20 right singular
# vectors $V_{20}$ (784 × 20), the directions of largest variance. An image's
# 20 numbers are $(x - \bar x) V_{20}$. Like the VAE, this uses every
# training image and no label; unlike it, it is linear. (Lecture 7 compares
# the two in 2-D.)

# %%
pixel_mean = pixels_train.mean(axis=0)  # (784,)
_, singular_values, v_transposed = np.linalg.svd(pixels_train - pixel_mean, full_matrices=False)
components = v_transposed[:20].T  # (784, 20): the 20 directions of largest variance
pca_train = (pixels_train - pixel_mean) @ components  # (4000, 20)
pca_test = (pixels_test - pixel_mean) @ components  # (1000, 20)
explained = np.sum(singular_values[:20] ** 2) / np.sum(singular_values**2)
print(f"PCA-20 keeps {explained:.1%} of the pixel variance of the training images")

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
def log_softmax(logits):
    """Row-wise log p(y = c | x) of shape (n, n_classes), without overflow."""
    shifted = logits - logits.max(axis=1, keepdims=True)  # (n, n_classes), largest entry 0
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def classifier_loss(params, x, y, penalty):
    """Mean cross-entropy + λ/2 ||W||² (a float), and the probabilities (n, n_classes); λ = ``penalty``."""
    log_p = log_softmax(x @ params["W"] + params["b"])  # (n, n_classes)
    loss = -np.mean(log_p[np.arange(len(y)), y]) + 0.5 * penalty * np.sum(params["W"] ** 2)
    return float(loss), np.exp(log_p)


def classifier_gradients(params, x, y, probabilities, penalty):
    """Gradients of ``classifier_loss``, same keys and shapes as ``params``."""
    d_logits = probabilities.copy()  # (n, n_classes): P ...
    d_logits[np.arange(len(y)), y] -= 1  # ... minus Y (one-hot), without building Y
    d_logits /= len(y)
    return {"W": x.T @ d_logits + penalty * params["W"], "b": d_logits.sum(axis=0)}


# %% [markdown]
# Before using the gradient, we check it, in float64, on a small random
# problem, with ``numvae.check_gradients``: the same central differences that
# checked the VAE in lecture 1.

# %%
x_small = rng.standard_normal((8, 5))  # (n, d)
y_small = rng.integers(0, 3, size=8)  # 3 classes
small = {"W": rng.standard_normal((5, 3)), "b": rng.standard_normal(3)}
_, probabilities = classifier_loss(small, x_small, y_small, penalty=0.3)
analytic = classifier_gradients(small, x_small, y_small, probabilities, penalty=0.3)
report = numvae.check_gradients(lambda: classifier_loss(small, x_small, y_small, penalty=0.3)[0], small, analytic)
print(report.assert_close(1e-6))

# %% [markdown]
# The analytic gradient agrees with the numerical one to about $10^{-10}$.
# Now the training loop. The loss is convex in $(W, b)$, so any reasonable
# optimizer finds the same minimum; we reuse ``numvae.Adam``, which works on
# any dict of arrays, for ``classifier_steps`` = 100 full-batch steps from $W = 0$.

# %%
def fit_classifier(x, y, penalty, steps=classifier_steps, lr=0.1):
    """Fit softmax regression with L2 weight ``penalty`` on (x, y); return the parameters and the loss per step."""
    params = {"W": np.zeros((x.shape[1], N_CLASSES)), "b": np.zeros(N_CLASSES)}
    optimizer = numvae.Adam(params, lr=lr)
    losses = []
    for _ in range(steps):
        loss, probabilities = classifier_loss(params, x, y, penalty)
        optimizer.step(classifier_gradients(params, x, y, probabilities, penalty))  # updates params in place
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
# 100 images described two ways, by their VAE codes and by their pixels, with
# $\lambda = 10^{-2}$ for both (section 3 chooses $\lambda$ properly).

# %%
labelled = draw_labelled(10)  # (100,) indices into the training set
fits = {"VAE codes (20 numbers)": fit_classifier(features_train[labelled], y_train[labelled], penalty=1e-2),
        "raw pixels (784 numbers)": fit_classifier(pixels_train[labelled], y_train[labelled], penalty=1e-2)}
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
# Both losses fall steeply and flatten well before the last step (the pixel
# loss may overshoot on the way: Adam's first steps are large). The pixel
# classifier reaches a lower training loss, as it can with 7,850 parameters
# for 100 examples against 210 for the codes, and neither can drive its loss
# to 0 because of the L2 penalty. The printed test accuracies are for one
# draw of the labels and one arbitrary $\lambda$; a fair comparison needs both
# fixed below.
#
# ## 3. A fair comparison: λ by cross-validation, paired draws
#
# Two things make a comparison of feature sets fair.
#
# * **The penalty must suit each feature set.** The same $\lambda$ is not
#   "the same regularisation" for 784 pixels in [0, 1] and for 20 codes of
#   unit scale: the penalty's effect depends on the number and the scale of
#   the features. So each feature set, at each number of labels, gets its
#   own $\lambda$, chosen from a grid by $k$-fold cross-validation **on
#   labelled images only** (split them into $k$ folds with every class in
#   every fold, train on $k - 1$, score accuracy on the one left out,
#   average, keep the best $\lambda$). To keep this lecture fast, the
#   cross-validation runs once per feature set and label count, on a
#   separate "tuning" draw of labelled images; the chosen $\lambda$ is then
#   used for every evaluation draw. The test set is never looked at.
# * **Every method sees the same labelled images.** Accuracy varies a lot
#   from one draw of 100 labelled images to another. Comparing methods on the
#   *same* draw and averaging the per-draw *difference* removes that shared
#   variation: we report the mean paired difference with its standard error
#   over ``n_draws`` draws.
#
# Next to logistic regression we try the simplest classifier there is, the
# nearest labelled neighbour (1-NN), which uses nothing but distances: it asks
# a different question of the features, whether *similar images have nearby
# codes*. It has no $\lambda$ to choose.

# %%
def cross_validated_penalty(x, y, draw_rng):
    """The λ of ``PENALTIES`` with the best mean k-fold accuracy on (x, y), folds stratified by class."""
    fold = np.empty(len(y), dtype=int)
    for c in range(N_CLASSES):
        members = np.flatnonzero(y == c)
        fold[draw_rng.permutation(members)] = np.arange(len(members)) % N_FOLDS
    scores = []
    for penalty in PENALTIES:
        fold_accuracy = [accuracy(fit_classifier(x[fold != k], y[fold != k], penalty)[0], x[fold == k], y[fold == k])
                         for k in range(N_FOLDS)]
        scores.append(np.mean(fold_accuracy))
    return PENALTIES[int(np.argmax(scores))]


def nearest_neighbour_accuracy(x_labelled, y_labelled, x, y):
    """Accuracy of predicting each row of x by the label of its closest labelled row."""
    squared_distances = (np.sum(x**2, axis=1)[:, None] - 2 * x @ x_labelled.T
                         + np.sum(x_labelled**2, axis=1)[None, :])  # (n_test, n_labelled)
    return float(np.mean(y_labelled[np.argmin(squared_distances, axis=1)] == y))


feature_sets = {"VAE codes": (features_train, features_test),
                "PCA-20": (pca_train, pca_test),
                "pixels": (pixels_train, pixels_test)}
methods = [(method, name) for method in ("logistic", "1-NN") for name in feature_sets]
results = {key: np.zeros((len(LABELS_PER_CLASS), n_draws)) for key in methods}  # test accuracy per draw
chosen = {}  # (feature set, labels per class) -> the λ cross-validation picked on the tuning draw
for row, per_class in enumerate(LABELS_PER_CLASS):
    tuning = draw_labelled(per_class)  # used only to choose λ
    for name, (train, _) in feature_sets.items():
        chosen[name, per_class] = cross_validated_penalty(train[tuning], y_train[tuning], rng)
    for draw in range(n_draws):
        labelled = draw_labelled(per_class)  # the same labelled images for every method
        for name, (train, test) in feature_sets.items():
            x_lab, y_lab = train[labelled], y_train[labelled]
            params, _ = fit_classifier(x_lab, y_lab, chosen[name, per_class])
            results["logistic", name][row, draw] = accuracy(params, test, y_test)
            results["1-NN", name][row, draw] = nearest_neighbour_accuracy(x_lab, y_lab, test, y_test)

print(f"test accuracy, mean ± standard error over {n_draws} draws of the labelled set")
print("labels/class " + "".join(f"{method + ', ' + name:>22s}" for method, name in methods))
for row, per_class in enumerate(LABELS_PER_CLASS):
    print(f"{per_class:12d} " + "".join(
        f"{acc[row].mean():15.3f} ± {acc[row].std(ddof=1) / np.sqrt(n_draws):.3f}" for acc in results.values()))
for name in feature_sets:
    print(f"λ chosen for {name:9s} at " + ", ".join(
        f"{per_class}/class: {chosen[name, per_class]:g}" for per_class in LABELS_PER_CLASS))

# %% [markdown]
# The paired differences answer the two questions directly. A difference
# whose interval (± 2 standard errors) contains 0 is not a difference these
# draws can resolve.

# %%
comparisons = [(("logistic", "VAE codes"), ("logistic", "pixels")),
               (("logistic", "VAE codes"), ("logistic", "PCA-20")),
               (("1-NN", "VAE codes"), ("1-NN", "pixels")),
               (("1-NN", "VAE codes"), ("1-NN", "PCA-20"))]
paired = {}
for a, b in comparisons:
    difference = results[a] - results[b]  # (n_label_counts, n_draws): same labelled images in each column
    paired[a, b] = difference
    print(f"{a[0]:8s} {a[1]} minus {b[1]:9s}: " + "   ".join(
        f"{per_class:3d}/class {d.mean():+.3f} ± {2 * d.std(ddof=1) / np.sqrt(n_draws):.3f} "
        f"({np.sum(d > 0)}/{n_draws} draws favour the codes)"
        for per_class, d in zip(LABELS_PER_CLASS, difference)))

# %%
fig = Figure(figsize=(13, 5.2), layout="constrained")
axes = fig.subplots(1, 2, sharey=True)
colors = {"VAE codes": "C0", "PCA-20": "C2", "pixels": "C3"}
markers = {"VAE codes": "o", "PCA-20": "^", "pixels": "s"}
for ax, method in zip(axes, ("logistic", "1-NN")):
    for name in feature_sets:
        acc = results[method, name]
        ax.errorbar(LABELS_PER_CLASS, acc.mean(axis=1), yerr=2 * acc.std(axis=1, ddof=1) / np.sqrt(n_draws),
                    capsize=3, lw=2, ms=6, color=colors[name], marker=markers[name], label=name)
    ax.set_xscale("log")
    ax.set_xticks(LABELS_PER_CLASS, [str(n) for n in LABELS_PER_CLASS])
    ax.set_xlabel("labelled images per class", fontsize=12)
    ax.set_title({"logistic": "logistic regression (λ by cross-validation)", "1-NN": "nearest neighbour"}[method],
                 fontsize=13)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=10, loc="lower right")
axes[0].set_ylabel(f"test accuracy (mean ± 2 s.e., {n_draws} draws)", fontsize=12)
save(fig, "10_accuracy.png")

# %% [markdown]
# Left: logistic regression; right: nearest neighbour; blue: VAE codes;
# green: PCA-20; red: pixels. Everything improves with more labels, as it
# must. Read the comparisons from the printed paired differences, not from
# the overlap of the error bars (the bars show the spread of each method
# alone; the paired differences remove the draw-to-draw variation they
# share):
#
# * **Logistic regression prefers the pixels, then PCA, then the VAE
#   codes**, at every label count (the first two rows of differences are
#   negative, in every draw). A linear classifier on 784 pixels with a tuned
#   $\lambda$ is already a decent MNIST classifier, and the 20 numbers the VAE
#   keeps were chosen to *reconstruct* images, not to make the classes
#   linearly separable: much of their capacity goes to slant, width and
#   stroke thickness. PCA's 20 numbers, a linear map of the pixels, lose less
#   of what a linear classifier needs.
# * **Nearest neighbour prefers the codes to the pixels**, by about a point
#   (the third row; most draws agree): distances between codes reflect the
#   similarity of digits a little better than distances between pixel
#   vectors, in which a slightly shifted stroke makes a different image.
# * **But the codes do not beat PCA-20 with nearest neighbour** (the last
#   row): at 50 and 100 labels per class the paired difference is within
#   about two standard errors of zero, and at 10 labels per class PCA is
#   slightly ahead. So, as measured here, what the unlabelled images buy a
#   nearest-neighbour classifier, 20 numbers that are better neighbours than
#   the pixels, a linear method gets as well: **on 4,000 images the VAE adds
#   nothing measurable over PCA for classification.** Its advantages lie
#   elsewhere: it is a generative model (it can sample and score images,
#   lectures 4 and 9) and its decoder is nonlinear (lecture 7 compares the
#   two reconstructions).
# * The $\lambda$ that cross-validation chose (printed above) is not the same
#   for every feature set and label count; a single shared value would have
#   handicapped whichever set it suits least.
#
# Why not the dramatic gains of the M1 paper? Three differences, each worth
# trying as an exercise: Kingma et al. trained the VAE on 50,000 unlabelled
# images, not 4,000; they used a transductive SVM, a nonlinear classifier
# that also exploits the unlabelled test points; and their best results came
# from stacking a second model, M2, on M1's codes. M2 is a generative model
# trained *with* the labels there are, so that its code is pushed to separate
# the classes.


# %% [markdown]
# ## Exercises for this lecture
#
# Write the encoder whose codes this lecture classifies yourself, then check it
# (`numvae exercises hint week10 NAME` gives a hint at a time, from what to
# differentiate to the formula):
#
# ```bash
# numvae exercises start week10 --only dense,kl
# numvae exercises check week10
# ```
#
# **Questions.**
#
# 1. Why are the classifiers compared by paired differences over draws of the
#    labels?
# 2. What would a second model stacked on the codes (M2) use that M1 does not?
#
# **Numerical questions**, graded by `numvae exercises check week10 questions`:
# write each answer as a number in the workbook's `questions.py` (a relative
# 1e-3 is enough unless it says otherwise).
#
# - `softmax_q1`: The softmax of the logits [0, log 3]: the probability of the
#   second class?
