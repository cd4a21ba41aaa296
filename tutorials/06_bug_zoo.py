# %% [markdown]
# # 6. The bug zoo: which check catches which mistake
#
# Every VAE course sees the same mistakes: a missing ½, a flipped sign, a loss
# averaged where it should be summed. numvae keeps seventeen of them in a zoo
# (``numvae.course.zoo``), each a small variant of one of numvae's own
# functions, with a line on where it is seen in the wild. Here we put every one
# of them through three kinds of check and draw the table of which check
# catches which bug:
#
# 1. **the gradient check**: each backward against central differences of its
#    own forward, in float64 (the check of lecture 00);
# 2. **the properties**: facts of the mathematics, tested on inputs drawn by
#    Hypothesis (KL ≥ 0, samples with variance exp(log_var), the negative
#    log-likelihood equal to −log of its density, Adam's first step of size η, …);
# 3. **a short training run** on mnist5k, judged by numvae's own loss (M2's
#    mutants: by the test error of M1+M2).
#
# These are the checks ``numvae exercises check`` runs on a student's workbook,
# and the ones ``tests/`` runs on numvae itself: the same functions, from
# ``numvae.course.properties``.

# %% [markdown]
# ## Setup

# %%
import numpy as np
from matplotlib.figure import Figure

from numvae.data import load_dataset
from numvae.course import zoo
from numvae.optim import Adam
from numvae.course.properties import hypothesis_settings
from numvae.training import TrainConfig

# numvae.course.lecture is plumbing only: fast mode and where figures go.
from numvae.course.lecture import FAST, save

max_examples = 20 if FAST else 100  # Hypothesis examples per property, derandomized
epochs, hidden = (1, (32,)) if FAST else (5, (200,))
seeds = (0, 1, 2)

data = load_dataset("mnist5k")
x_train, x_test = data.x_train, data.x_test  # (4000, 784), (1000, 784), float32 in [0, 1]
y_train, y_test = data.y_train, data.y_test  # labels: only M2's mutants use them (section 3)
if FAST:
    x_train, x_test, y_train, y_test = x_train[:1000], x_test[:300], y_train[:1000], y_test[:300]

# %% [markdown]
# ## 1. The specimens
#
# Each mutant replaces one or two functions of one exercise. Where it
# replaces a forward *and* its backward, the backward is the exact derivative
# of the wrong forward: the mistake is consistent.

# %%
for mutant in zoo.ZOO:
    print(f"{mutant.name:<20} {mutant.exercise:<15} replaces {', '.join(mutant.replaces)}")
    print(f"{'':<20} seen in: {mutant.seen}")

# %% [markdown]
# ## 2. Gradient checks and properties
#
# For each mutant we run its exercise's checks in order and keep the first
# failure of each kind. Hypothesis is derandomized, so the counterexamples
# below are the same on every run and every machine.

# %%
settings = hypothesis_settings(max_examples)
static = {m.name: zoo.static_checks(m, settings) for m in zoo.ZOO}
for name, found in static.items():
    for kind, failure in found.items():
        print(f"{name:<20} {kind:<15} {'missed' if failure is None else 'CAUGHT: ' + str(failure)[:160]}")

# %% [markdown]
# ## 3. A short training run
#
# Each mutant trains a VAE (2-D latent, Adam, the activation and likelihood
# its function serves) from three seeds; afterwards numvae's own loss judges
# the trained parameters on the test set, so a mutant cannot flatter itself
# with a wrongly scaled loss. numvae's own functions train from the same three
# seeds, and each mutant is compared with numvae **seed by seed**: from the
# same seed both start from the same weights and see the same batches and
# noise, so the difference is the mutant's effect, without the seed-to-seed
# spread of either (which is as large as several of the effects). A mutant is
# caught when it ends worse than numvae by more than 1 nat on every seed, or
# does not finish.
#
# A VAE never calls M2's unlabelled bound, so its three mutants train M1+M2
# instead, as in lecture 14: the VAE M1 (50-dimensional codes) on all images,
# then M2 on its codes with 10 labels per class, each for the same number of
# epochs. They are judged by what M1+M2 is for, its test error in percent
# (numvae's softmax makes the predictions), and caught when worse than numvae's
# by more than 1 point on every seed.

# %%
runs, caught_by_training = zoo.training_runs(zoo.ZOO, x_train, x_test, epochs=epochs, hidden=hidden, seeds=seeds,
                                             y_train=y_train, y_test=y_test)
print(f"test loss after {epochs} epochs, nats (M2's mutants: M1+M2's test error, %); seeds {seeds}; "
      "difference = mutant − numvae, seed by seed")
for name, (losses, reference) in runs.items():
    differences = np.array(losses) - np.array(reference)
    print(f"{name:<20} mutant {' '.join(f'{x:9.2f}' for x in losses)}   numvae {' '.join(f'{x:8.2f}' for x in reference)}"
          f"   difference {' '.join(f'{d:+9.2f}' for d in differences)}   "
          f"{'CAUGHT' if caught_by_training[name] else 'missed'}")

# %% [markdown]
# ## 4. The table

# %%
kinds = ["gradient check", "properties", "training"]
table = {name: [static[name]["gradient check"] is not None, static[name]["properties"] is not None,
                caught_by_training[name]] for name in static}
print(f"{'mutant':<20} " + " ".join(f"{k:>15}" for k in kinds))
for name, row in table.items():
    print(f"{name:<20} " + " ".join(f"{'caught' if c else '-':>15}" for c in row))
totals = np.sum(list(table.values()), axis=0)
print(f"{'caught (of ' + str(len(table)) + ')':<20} " + " ".join(f"{t:>15}" for t in totals))

fig = Figure(figsize=(7.5, 0.42 * len(table) + 1.2), layout="constrained")
ax = fig.subplots()
grid = np.array(list(table.values()), dtype=float)
ax.imshow(grid, cmap="RdYlGn", vmin=-0.3, vmax=1.3, aspect="auto")
for (i, j), c in np.ndenumerate(grid):
    ax.text(j, i, "caught" if c else "missed", ha="center", va="center", fontsize=9)
ax.set_xticks(range(len(kinds)), [f"{k}\n({t}/{len(table)})" for k, t in zip(kinds, totals)])
ax.set_yticks(range(len(table)), [f"{name} ({zoo.BY_MUTANT[name].exercise})" for name in table])
ax.xaxis.tick_top()
ax.set_title(f"Which check catches which bug ({'fast mode' if FAST else f'{epochs} epochs'})", fontsize=10)
save(fig, "06_bug_zoo.png")

# %% [markdown]
# ## 5. What the table shows
#
# The lists printed below the prose are computed from the table; the prose
# explains them.
#
# * **A gradient check cannot see a mistake made consistently in a forward
#   and its backward.** It compares a backward pass with finite differences of
#   *the code's own forward pass*: the sampler's std = exp(log_var), the KL's
#   flipped sign, a loss averaged over pixels, a sigmoid before a loss that
#   expects logits, a dropped log 2π all have exactly right derivatives, of the
#   wrong function. A property of the mathematics (KL ≥ 0, the variance of the
#   samples, −log of the density) catches each of them.
# * **The properties here test values, not derivatives**, so a backward-only
#   mistake (the missing ½, fresh noise in the backward, d_b as a batch mean,
#   tanh' at the input, the KL's path into mu forgotten) gets past them, and
#   the gradient check catches it, naming the parameter, the index and both
#   values. The two kinds of check are complements: run both.
# * **A training run catches nothing the other two miss.** In full mode it
#   catches more mutants than the gradient check (the totals row), but each of
#   them is caught by a gradient check or a property too (the list "caught
#   only by training" below), and it passes mutants that are wrong. A mutant
#   can train as well as numvae for reasons the table makes concrete: a
#   dropped constant never changes the optimizer's path; Adam divides every
#   gradient by its own running scale, so a gradient off by a constant factor
#   (d_b as a mean) trains alike; Adam without bias correction divides by a v
#   that is still far from warmed up after the few hundred steps of this run
#   (1 − 0.999ᵗ is small), so every step is over twice numvae's (the range is
#   printed below), and here that larger step trains *better* than numvae
#   (no_bias_correction ends 10 to 13 nats below numvae on every seed); a
#   naive softplus or sigmoid only overflows at inputs a healthy network
#   rarely produces; and the IW bound is not used in training a VAE at all.
#   Five mutants end, to the printed digits, where numvae ends from the same
#   seed, on every seed (differences +0.00): no_log_2pi, log_sum_exp,
#   bias_mean, naive_softplus and naive_sigmoid. Of M2's three, in M1+M2's run,
#   the argmax ends 1.1 to 2.7 points of test error worse than numvae on
#   every seed, and is caught; the forgotten entropy ends −0.1 to 0.0 points
#   from numvae, and α on the unlabelled bound +1.9, −1.0 and +2.0: signs
#   that disagree, so both pass, although a property catches each. A run
#   this short is a weak judge of M2's mistakes: their effects are the size
#   of numvae's own spread between seeds (19.1 to 22.2 % test error). A
#   training run that ends well is not a run that is right.
# * **Compare seed by seed.** numvae's own test loss moves by 3 nats from
#   seed to seed (188.80 to 191.93 with ReLU), as much as some mistakes do:
#   the sampler's std = exp(log_var) ends 2.1 to 2.8 nats worse than numvae,
#   and the KL's path forgotten in the backward 4.8 to 5.6 nats worse. Against
#   numvae's mean plus three standard deviations over seeds, the first would
#   pass; paired with numvae from the same seed (same initial weights, same
#   batches, same noise), it is worse on every seed, and caught. The missing ½
#   in the sampler's gradient is the close call that pairing does not settle:
#   +1.36, +0.45 and −0.43 nats, signs that disagree, so it passes. In fast
#   mode (one epoch on 1,000 images) the differences are smaller and training
#   separates fewer mutants.

# %%
through_gradient = [n for n, row in table.items() if not row[0]]
missed_by_training = [n for n, row in table.items() if not row[2]]
print("passed the gradient check:", ", ".join(through_gradient))
print("  ... of which caught by a property:", ", ".join(n for n in through_gradient if table[n][1]))
print("passed the training run:", ", ".join(missed_by_training))
adam, batch_size = Adam({"w": np.zeros(1)}), TrainConfig().batch_size  # the training run's defaults
t = np.arange(1, epochs * int(np.ceil(len(x_train) / batch_size)) + 1)  # every step of the run
ratio = (1 - adam.beta1**t) / np.sqrt(1 - adam.beta2**t)  # the step without bias correction / with it
print(f"Adam without bias correction: steps {ratio.min():.1f} to {ratio.max():.1f} times numvae's "
      f"(last step {ratio[-1]:.1f}) over the run's {len(t)} steps")
print("caught only by training:", ", ".join(n for n, row in table.items() if row[2] and not any(row[:2])) or "none")
print("caught by no check:", ", ".join(n for n, row in table.items() if not any(row)) or "none")


# %% [markdown]
# ## Exercises for this lecture
#
# Write the functions whose classic mistakes this lecture's zoo holds yourself,
# then check it (`numvae exercises hint lecture06 NAME` gives a hint at a time,
# from what to differentiate to the formula):
#
# ```bash
# numvae exercises start lecture06 --only reparameterize,kl,dense,adam
# numvae exercises check lecture06
# ```
#
# **Questions.**
#
# 1. Which of the zoo's mistakes pass the gradient check, and what do they have
#    in common?
# 2. Which check catches std = exp(log_var), and why can no gradient check?
#
# **Numerical questions**, graded by `numvae exercises check lecture06 questions`:
# write each answer as a number in the workbook's `questions.py` (a relative
# 1e-3 is enough unless it says otherwise).
#
# - `gradcheck_q1`: A backward pass returns exactly twice the true gradient.
#   What relative error $\max|a - n| / \max(|a|, |n|)$ does the gradient check
#   report?
