# %% [markdown]
# # 13. Conditional generation: "draw me a 7"
#
# A VAE draws digits, but it cannot be told *which* digit to draw: the class
# is somewhere in z, mixed with everything else. The conditional VAE
# (Sohn, Lee & Yan, NeurIPS 2015; the labelled half of Kingma et al.'s M2,
# NeurIPS 2014) gives the label y to the model as an input. It learns
# $p(x \mid z, y)$, so we choose y and draw z from the prior, and z is left to
# hold what the label does not say: the *style* of the handwriting.
#
# This lecture derives the CVAE's bound, builds its two new pieces by hand
# (a one-hot label joined to a network's input, and the gradient split back),
# trains it on mnist5k, and looks at the class × style grid and at
# interpolation within a class. Then it measures a failure that is easy to
# miss: with a 20-dimensional z the decoder largely ignores y.

# %% [markdown]
# ## Setup
#
# The 4,000 / 1,000 split of mnist5k with its labels, dynamically binarized
# while training (a fresh 0/1 draw of every pixel each epoch), so that the
# loss bounds a log-probability. In fast mode (``NUMVAE_FAST=1``) a few
# hundred images and one epoch: the figures are then placeholders.

# %%
import numpy as np
from matplotlib.figure import Figure

from numvae import VAE, plots
from numvae.conditional import join, join_backward, one_hot
from numvae.cvae import CVAE
from numvae.data import load_dataset
from numvae.gradcheck import check_gradients
from numvae.training import TrainConfig, Trainer

from numvae.course.lecture import FAST, FIGURES_DIR, save, show

data = load_dataset("mnist5k")
x_train, y_train, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
if FAST:
    x_train, y_train, x_test, y_test = x_train[:300], y_train[:300], x_test[:100], y_test[:100]
epochs = 1 if FAST else 20
seeds = (0, 1)
n_classes = 10
print("train", x_train.shape, "labels", y_train[:12], "| test", x_test.shape)

# %% [markdown]
# ## 1. The bound
#
# Everything in a VAE is now given y. The prior stays $p(z) = \mathcal N(0, I)$
# for every class, the encoder is $q_\phi(z \mid x, y)$ and the decoder
# $p_\theta(x \mid z, y)$, with parameters $\phi$ and $\theta$ as before.
# Jensen's inequality, as in lecture 01, with the expectation taken under
# $q_\phi(z \mid x, y)$:
#
# $$\log p_\theta(x \mid y) = \log \mathbb E_{q_\phi(z|x,y)}\!\left[\frac{p_\theta(x \mid z, y)\,p(z)}{q_\phi(z \mid x, y)}\right]
#   \;\ge\; \mathbb E_{q_\phi(z|x,y)}[\log p_\theta(x \mid z, y)] - D_{KL}\big(q_\phi(z \mid x, y)\,\|\,p(z)\big).$$
#
# Its two terms are the VAE's, computed by the same functions: the Bernoulli
# reconstruction term and the analytic KL. Only the networks' inputs change.
#
# The bound is on $\log p(x \mid y)$, not $\log p(x)$: the model is told the
# class, which is worth up to $\log 10 = 2.3$ nats per image. To compare with a
# VAE, note that $p(x) = \sum_{y'} p(x, y') \ge p(x, y) = p(x \mid y)\,p(y)$,
# so with $p(y) = 1/10$, $-\log p(x) \le -\text{ELBO} + \log 10$: the CVAE's
# −ELBO plus 2.3 nats is an upper bound on the same $-\log p(x)$ a VAE's −ELBO bounds.

# %% [markdown]
# ## 2. The label as an input, by hand
#
# The label enters as its one-hot code $c = e_y$, joined to the columns of
# the network's input: $[x \mid c]$ for the encoder, $[z \mid c]$ for the
# decoder. Joined to a dense layer, it is a *bias per class*:
#
# $$[x \mid c] \begin{bmatrix} W_x \\ W_c \end{bmatrix} + b = x W_x + (b + W_c[y]),$$
#
# row y of $W_c$ added to the layer's bias. The backward of a join is a slice:
# each column of $[a \mid b]$ is a copy of one column of a or of b, so
# $\partial L / \partial a$ is the first ``width_a`` columns of
# $\partial L / \partial [a \mid b]$ and $\partial L / \partial b$ the rest. In
# the CVAE's backward pass, the decoder's input gradient is split so; z's
# share goes on to the sampler, c's stops (c is data).

# %%
rng = np.random.default_rng(12)
y_small = np.array([3, 0, 3])
c = one_hot(y_small, 4)  # (3, 4)
print("one_hot([3, 0, 3], 4) =\n", c)
x_small = rng.standard_normal((3, 5))
W_x, W_c, b = rng.standard_normal((5, 2)), rng.standard_normal((4, 2)), rng.standard_normal(2)
as_joined = join(x_small, c) @ np.vstack([W_x, W_c]) + b
as_bias = x_small @ W_x + (b + W_c[y_small])
print(f"[x | c] W + b  against  x W_x + (b + W_c[y]): largest difference {np.max(np.abs(as_joined - as_bias)):.1e}")

# join_backward against central differences of f(a, b) = Σ d_joined ⊙ [a | b]
d_joined = rng.standard_normal((3, 9))
d_a, d_b = join_backward(d_joined, 5)
report = check_gradients(lambda: float(np.sum(d_joined * join(x_small, c))), {"a": x_small, "b": c},
                         {"a": d_a, "b": d_b})
print(f"join_backward: worst relative error {report.worst.relative_error:.1e}")

# %% [markdown]
# The whole CVAE's gradient, checked the same way in float64 on a small model:
# every parameter perturbed entry by entry, the same noise ε replayed, against
# ``backward()``. The label rows of the first weight matrices (rows 6.. of
# ``encoder.0.W``, 2.. of ``decoder.0.W``) are checked with the rest.

# %%
tiny = CVAE(6, 3, hidden_dims=(5,), latent_dim=2, activation="tanh", seed=1)
x6, y6 = rng.uniform(0, 1, size=(4, 6)), np.array([0, 2, 2, 1])
eps6 = rng.standard_normal((4, 2))
for name, p in tiny.parameters().items():
    if name.endswith(".b"):
        p[...] = rng.uniform(-0.5, 0.5, size=p.shape)  # non-zero biases: a zero one hides a wrong gradient
tiny.loss(x6, y6, eps6)
analytic = {name: g.copy() for name, g in tiny.backward().items()}
report = check_gradients(lambda: tiny.loss(x6, y6, eps6).loss, tiny.parameters(), analytic)
print(f"{len(report.checks)} parameters; worst: {report.worst}")

# %% [markdown]
# ## 3. Why the label goes into both networks
#
# **The decoder** needs y to draw the class we ask for: that is the point.
# Once it has y, whatever z says about the class is redundant, and the KL
# term charges for every nat z carries; so z is pushed to hold only what y
# does not say.
#
# **The encoder** needs y because the posterior it approximates,
# $p(z \mid x, y)$, depends on y. Decoding is "style + class → image";
# encoding must invert it for the class the decoder will be told. The same
# scrawl is one style if it is a 4 and another if it is a 9. Given y, the
# encoder need not first learn to classify x, and for a chosen y' ≠ y it
# answers the question "which style would draw x as a y'?", which is what
# style transfer below uses.
#
# We train four CVAEs (z of 2 and of 20 dimensions, two seeds each) and one
# plain VAE of the same size as a reference, with the same ``Trainer``: a
# CVAE takes the labels of each batch (``y_train``, ``y_test``).

# %%
config = TrainConfig(epochs=epochs, batch_size=100, seed=0)
models, elbo = {}, {}
for latent_dim in (2, 20):
    for seed in seeds:
        model = CVAE(784, n_classes, latent_dim=latent_dim, dtype=np.float32, seed=seed)
        trainer = Trainer(model, x_train, x_test, TrainConfig(epochs=epochs, seed=seed), y_train=y_train, y_test=y_test)
        history = trainer.fit()
        models[latent_dim, seed], elbo[latent_dim, seed] = model, history["test_loss"][-1]
vae = VAE(784, latent_dim=2, dtype=np.float32, seed=0)
vae_loss = Trainer(vae, x_train, x_test, config).fit()["test_loss"][-1]
for (latent_dim, seed), loss in elbo.items():
    print(f"CVAE, z of {latent_dim:2d}, seed {seed}: test −ELBO {loss:6.1f} nats (a bound on −log p(x|y)); "
          f"+ log 10 = {loss + np.log(10):6.1f} (a bound on −log p(x))")
print(f"VAE,  z of  2, seed 0: test −ELBO {vae_loss:6.1f} nats (a bound on −log p(x)), {epochs} epochs each")

# %% [markdown]
# With a 2-D z the label is worth a great deal: the CVAE's bound on
# −log p(x), its −ELBO plus log 10, lies well below the plain VAE's (compare
# the printed lines), although the CVAE was told at most 2.3 nats: two
# numbers of z cannot hold both the class and the style, and given the class
# they can spend themselves on style. With a 20-D z the bound is lower still;
# how it gets there is the subject of section 6.

# %% [markdown]
# ## 4. The class × style grid
#
# Ten draws $z_1, \dots, z_{10}$ from the prior, each decoded as every class:
# row k is ``decode(z, y=k)``, column j is one $z_j$. If z holds the style,
# a column should show one handwriting (slant, width, size) in ten digits.

# %%
model2 = models[2, 0]
z_styles = np.random.default_rng(7).standard_normal((10, 2)).astype(np.float32)
show(plots.plot_class_grid(model2.decode_every_class(z_styles), FIGURES_DIR / "13_class_grid_2d.png",
                           title="CVAE, z of 2: rows are classes, columns shared draws of z"))

# %% [markdown]
# Along a column the style is shared: a column of narrow upright digits, a
# column of wide round ones, one slanted to the right. Nine rows are their
# digit in every column; the row of 1s is not: in four of the ten columns
# (those of the widest, roundest 0s) the decoder draws a blur where a 1
# should be, and the same columns give the roundest 9s. A grid of ten draws
# only suggests this; the next cell measures it, with many more draws.
#
# **Is the weak row a measured fact, and why?** For each class, 1-NN on the
# training images reads the class of ``decode(z, y=k)`` for many prior draws
# of z. Beside it, a reason to test: the prior is one $\mathcal N(0, I)$ for
# every class, but a class whose handwriting varies less may fill less of
# it. For each prior draw we take its distance to the nearest posterior
# mean of a training image *of that class* (encoded with its label): large
# distances mean prior draws in styles no training image of the class has.

# %%
n_z = 20 if FAST else 200
train_sq = np.sum(x_train.astype(np.float64) ** 2, axis=1)


def nearest_label(images):
    """1-NN class of each row, against the training images (squared Euclidean distance)."""
    d = train_sq[None, :] - 2 * images.astype(np.float64) @ x_train.T.astype(np.float64)  # + |image|², the same per row
    return y_train[np.argmin(d, axis=1)]


z_prior = np.random.default_rng(8).standard_normal((n_z, 2)).astype(np.float32)  # (n_z, 2)
print("class                       " + " ".join(f"{k:5d}" for k in range(n_classes)))
for seed in seeds:
    read, gap = [], []
    for k in range(n_classes):
        images = models[2, seed].decode(z_prior, np.full(n_z, k))  # (n_z, 784)
        read.append(np.mean(nearest_label(images) == k))
        codes, _ = models[2, seed].encode(x_train[y_train == k], y_train[y_train == k])  # (N_k, 2)
        gap.append(np.median(np.min(np.linalg.norm(z_prior[:, None] - codes[None], axis=2), axis=1)))
    print(f"seed {seed}: read as the class  " + " ".join(f"{r:5.2f}" for r in read))
    print(f"        nearest code, median " + " ".join(f"{g:5.3f}" for g in gap))
print(f"standard error of a rate from {n_z} draws: at most {0.5 / np.sqrt(n_z):.3f}")

# %% [markdown]
# The printout confirms the grid. On both seeds the 1s are the row read least
# often as its class (0.81 and 0.83; the other rows 0.84–0.98 and
# 0.90–0.98, each rate within about ±0.035 at 200 draws), and a prior draw
# lies more than twice as far from the nearest code of a 1 (median 0.24) as
# from the nearest code of any other class (0.08–0.13). The prior is shared,
# but the codes of the 1s fill a smaller part of it: 1s vary in fewer ways
# (the grid suggests slant and thickness, not width or roundness). A draw
# outside that part asks the decoder for a 1 in a style no training 1 has,
# where it was never trained, and it draws a blur. A prior that depends on
# the class, $p(z \mid y)$, would be one remedy; it is not measured here.
#
# Nothing here was told what "style" is; it is whatever varies within a class.

# %% [markdown]
# ## 5. Interpolation within a class, and style transfer
#
# Two test images of one class, encoded *with their label*: the straight
# line between their posterior means $z_a$, $z_b$, decoded with the same
# label, walks from one handwriting to the other while staying that digit.

# %%
t = np.linspace(0, 1, 8)[:, None]  # (steps, 1)
rows, ends = [], []
for k in range(n_classes):
    a, b = np.flatnonzero(y_test == k)[[0, 2]]  # two test images of class k
    mu, _ = model2.encode(x_test[[a, b]], [k, k])  # (2, latent_dim)
    rows.append(model2.decode((1 - t) * mu[0] + t * mu[1], np.full(len(t), k)))
    ends.append(x_test[[a, b]])
show(plots.plot_class_interpolation(np.stack(rows), FIGURES_DIR / "13_interpolation.png", ends=np.stack(ends)))

# %% [markdown]
# Each row changes slant and width smoothly and never leaves its class:
# with the class held fixed, the path through z is a path through styles
# only. The ends are the images' reconstructions, so they are as good as a
# 2-D code of style can make them (the left and right columns show the
# images themselves).
#
# Style transfer asks the encoder the question of section 3: encode a test
# image with its own label, keep its z, decode it with every other label.

# %%
picks = [int(np.flatnonzero(y_test == k)[1]) for k in (0, 2, 3, 4, 5, 7)]
mu, _ = model2.encode(x_test[picks], y_test[picks])
transfer = model2.decode_every_class(mu)  # (10, 6, 784)
grid = np.concatenate([x_test[picks][None], transfer])  # row 0: the images themselves
show(plots.plot_class_grid(grid, FIGURES_DIR / "13_style_transfer.png",
                           class_names=["image", *range(n_classes)], title="A test image's z, as every class"))

# %% [markdown]
# Row 0 shows six test digits; below each, its z decoded as 0 … 9. The
# small slanted 5 becomes small slanted digits of every class, the thin
# upright 7 thin upright ones: z carries the writer, y the digit. The wide 3's
# style has no good 1, 2 or 7 (the blurred cells), the weak spot of the grid.

# %% [markdown]
# ## 6. With a larger z, the decoder ignores y
#
# The same grid for a CVAE with a 20-dimensional z:

# %%
model20 = models[20, 0]
z20 = np.random.default_rng(7).standard_normal((10, 20)).astype(np.float32)
show(plots.plot_class_grid(model20.decode_every_class(z20), FIGURES_DIR / "13_class_grid_20d.png",
                           title="CVAE, z of 20: rows are classes, columns shared draws of z"))

# %% [markdown]
# Now many *columns* are one digit whatever the row (a 0, a 9, a 7, an 8):
# the decoder reads the class from z and largely ignores y. Why? The encoder
# sees x, and x shows its class; with 20 dimensions there is room in z for
# the class as well as the style, and nothing in the bound rewards reading
# the class from y rather than from z. Putting it in z costs KL, but a code
# that holds the class can also hold the details y does not fix (this 7 has
# a bar, that one not), and the reconstruction term pays for those. The
# label, one input among thirty, is not the one the decoder comes to rely
# on. The test −ELBO is *better* (section 3): this is not a worse fit, it is
# a model whose conditioning we can no longer fully use.
#
# To measure "ignores y" we need a number that a grid only suggests. Two,
# each computed from 200 draws of z decoded as every class:
#
# * **How much the image changes when only y changes**, relative to how
#   much it changes when only z changes: $R = D_y / D_z$, with $D_y$ the mean
#   absolute pixel difference between two classes at the same z, and $D_z$
#   the same between two draws of z at the same class. The simplest
#   explanation of a small $D_y$ would be a decoder whose outputs barely move
#   at all (faint, blurred images); dividing by $D_z$ removes it.
# * **How often the image is read as the class asked for**, by a 1-nearest-
#   neighbour classifier on the 4,000 training images: 10 % is what a decoder
#   that ignores y would get by chance, and 1-NN's accuracy on real test
#   digits is what a perfect decoder could get.
#
# The interval is a 95 % bootstrap over the draws of z; the two seeds show
# the variation between training runs.

# %%
z_rng = np.random.default_rng(2015)


def ignores_y(model, n_boot=1000):
    z = z_rng.standard_normal((n_z, model.latent_dim)).astype(np.float32)
    images = model.decode_every_class(z)  # (classes, n_z, 784)
    k, k2 = np.triu_indices(n_classes, 1)  # every pair of classes
    d_y = np.mean(np.abs(images[k] - images[k2]), axis=(0, 2))  # (n_z,): change with y, z fixed
    other = np.roll(np.arange(n_z), 1)  # each draw against the next one
    d_z = np.mean(np.abs(images - images[:, other]), axis=(0, 2))  # (n_z,): change with z, y fixed
    read = nearest_label(images.reshape(-1, 784)).reshape(n_classes, n_z)
    agree = np.mean(read == np.arange(n_classes)[:, None], axis=0)  # (n_z,)
    boot = np.random.default_rng(0).integers(0, n_z, size=(n_boot, n_z))
    ratio_boot = d_y[boot].mean(axis=1) / d_z[boot].mean(axis=1)
    return {"ratio": d_y.mean() / d_z.mean(), "ratio_ci": np.percentile(ratio_boot, [2.5, 97.5]),
            "agree": agree.mean(), "agree_ci": np.percentile(agree[boot].mean(axis=1), [2.5, 97.5]),
            "d_y": d_y.mean(), "d_z": d_z.mean()}


test_accuracy = np.mean(nearest_label(x_test) == y_test)
print(f"1-NN on real test digits: accuracy {test_accuracy:.3f} (the ceiling); chance 0.100 (a decoder blind to y)")
measured = {key: ignores_y(model) for key, model in models.items()}
for (latent_dim, seed), m in measured.items():
    print(f"z of {latent_dim:2d}, seed {seed}: R = D_y/D_z = {m['ratio']:.2f} "
          f"[{m['ratio_ci'][0]:.2f}, {m['ratio_ci'][1]:.2f}] (D_y {m['d_y']:.3f}, D_z {m['d_z']:.3f}); "
          f"read as the class asked for {m['agree']:.2f} [{m['agree_ci'][0]:.2f}, {m['agree_ci'][1]:.2f}]")

# %%
fig = Figure(figsize=(11, 4.2), layout="constrained")
axes = fig.subplots(1, 2)
for ax, key, label in ((axes[0], "ratio", "R = D_y / D_z"), (axes[1], "agree", "read as the class asked for")):
    for i, (latent_dim, seed) in enumerate(measured):
        m = measured[latent_dim, seed]
        low, high = m[f"{key}_ci"]
        colour = "tab:blue" if latent_dim == 2 else "tab:orange"
        ax.errorbar(i, m[key], yerr=[[m[key] - low], [high - m[key]]], fmt="o", color=colour, capsize=4)
    ax.set_xticks(range(len(measured)), [f"z {j}\nseed {s}" for j, s in measured])
    ax.set_ylabel(label)
    ax.set_ylim(bottom=0)
axes[1].axhline(0.1, color="gray", linestyle="--", label="chance: y ignored")
axes[1].axhline(test_accuracy, color="black", linestyle=":", label="1-NN on real test digits")
axes[1].legend(loc="center left")
axes[0].set_title("How much the image moves when y changes (vs z)")
axes[1].set_title("How often 1-NN reads the class asked for")
save(fig, "13_ignores_y.png")

# %% [markdown]
# Left: with a 2-D z, changing the class moves the image a little *more*
# than changing z does ($R$ = 1.15 and 1.08 for the two seeds, printed
# above); with a 20-D z, less than half as much ($R$ = 0.45 and 0.47). The
# bootstrap intervals of the two sizes are far apart, and the seeds agree
# within each size. Dividing by $D_z$ matters: the 20-D decoder's images
# move *more* with z than the 2-D one's ($D_z$ 0.113–0.114 against
# 0.094–0.099), so its small $D_y$ is not a decoder that barely moves. Right: 1-NN reads 92–93 % of the
# 2-D decoder's images as the class asked for, close to the 95.6 % it scores
# on real test digits; it reads only 40–42 % of the 20-D decoder's images so,
# four times chance (10 %, a decoder blind to y), but most of them are the
# digit their z encodes rather than the one requested.
#
# What would make the label count again with a large z? Anything that makes
# z unable or unwilling to carry the class: a smaller z (as here), a larger
# β, or a penalty on class information in q(z|x,y). These are candidates,
# not measured here. M2, the semi-supervised model, has the same decoder
# $p(x \mid y, z)$, and the same measurement applies to it.


# %% [markdown]
# ## Exercises for this lecture
#
# The conditional VAE is the VAE with a label joined to each network's input:
# its backward is the VAE's, plus the split of the joined input's gradient.
# Write the pieces it shares with the VAE, then check them (`numvae exercises
# hint week12 NAME` gives a hint at a time):
#
# ```bash
# numvae exercises start lecture13 --only dense,vae_backward
# numvae exercises check lecture13
# ```
#
# **Questions.**
#
# 1. The joined label acts on the first layer as a bias per class,
#    $[x \mid \mathrm{onehot}(y)]\,W + b = x W_x + (b + W_c[y])$. What does that say
#    about what a CVAE can learn from the label that a VAE cannot?
# 2. Why does a 20-D z let the decoder ignore y, when a 2-D z does not? Which
#    of the two numbers printed above ($R$, or 1-NN's accuracy on the samples)
#    would you trust to show it, and why?
#
# **Numerical questions**, graded by `numvae exercises check lecture13 questions`:
# write each answer as a number in the workbook's `questions.py`.
#
# - `join_q1`: a conditional VAE with a 2-D z and 10 classes joins the one-hot
#   label to z: how many inputs does its decoder's first layer take?
# - `join_q2`: for a batch of one image of class 3, how many of the 10 label
#   rows of the decoder's first-layer gradient dL/dW are not zero?
