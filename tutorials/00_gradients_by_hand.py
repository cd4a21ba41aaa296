# %% [markdown]
# # 0. The chain rule, by hand and checked
#
# A VAE is trained by gradient descent, and numvae computes every gradient with
# a backward pass written by hand. This lecture builds that skill from the
# bottom: the derivative of each activation, the backward pass of a Dense layer,
# and the one test that makes hand-written gradients trustworthy, a comparison
# with central finite differences. It ends with the whole VAE checked at once,
# and with why that check must run in float64.
#
# Notation (the whole course uses it; see ``tutorials/README.md``):
# $\mathrm{sigmoid}(a) = 1/(1 + e^{-a})$ is always spelled out, because
# $\sigma$ is reserved for a standard deviation; $u$ is the unit round-off of
# a float type and $h$ a finite-difference step.

# %% [markdown]
# ## Setup
#
# Figures go to ``figures/`` next to the ``tutorials/`` folder, or to
# ``$NUMVAE_FIGURES_DIR``. ``NUMVAE_FAST=1`` shrinks the work so that the test
# suite can run this lecture in a few seconds. All randomness comes from one
# local ``Generator``: nothing seeds NumPy's global state.

# %%
import numpy as np
from matplotlib.figure import Figure

import numvae
from numvae import activations, layers
from numvae.gradcheck import check_gradients, compare, numerical_gradient
from numvae.layers import MLP, dense_backward, dense_forward

# numvae.course.lecture is plumbing only: fast mode and where figures go.
from numvae.course.lecture import FAST, save

rng = np.random.default_rng(2013)
H = 1e-5  # the step of every central difference below, numvae's default

# %% [markdown]
# ## 1. The chain rule in three lines
#
# Take one neuron, $y = \mathrm{softplus}(w x + b)$. Name the intermediate
# value $a = w x + b$. Each step has a *local* derivative:
#
# $$\frac{\partial y}{\partial a} = \mathrm{sigmoid}(a), \qquad
#   \frac{\partial a}{\partial w} = x, \qquad
#   \frac{\partial a}{\partial b} = 1,$$
#
# and the chain rule multiplies them along the path from the output back to
# each input: $\partial y / \partial w = \mathrm{sigmoid}(a)\, x$. A backward pass is
# nothing more than this product, computed from the output backwards, reusing
# what the forward pass stored. We check it against the *definition* of the
# derivative, a difference quotient with a small step $h$.

# %%
w, b, x = 0.7, -0.3, 2.0
a = w * x + b
y = activations.softplus(np.array(a))
d_a = activations.softplus_backward(1.0, np.array(a), y)  # dy/da = sigmoid(a)
d_w, d_b = d_a * x, d_a * 1.0

y_plus = activations.softplus(np.array((w + H) * x + b))
y_minus = activations.softplus(np.array((w - H) * x + b))
numeric_d_w = (y_plus - y_minus) / (2 * H)
print(f"y = {float(y):.6f}")
print(f"dy/dw by the chain rule: {float(d_w):.10f}")
print(f"dy/dw by differences:    {float(numeric_d_w):.10f}")
print(f"dy/db by the chain rule: {float(d_b):.10f}")

# %% [markdown]
# The two values of $\partial y/\partial w$ agree to about ten digits. That
# agreement, repeated for every parameter of a network, is all a gradient
# check is.
#
# ## 2. Activations and their derivatives
#
# ``numvae.activations`` defines each function ``f`` and, right under it,
# ``f_backward(d_y, x, y)``, which returns ``d_y * f'(x)``. Passing
# ``d_y = 1`` therefore returns $f'(x)$ itself. The backward functions receive
# the forward's input *and* output, because some derivatives are cheapest in
# the output: $\tanh' = 1 - y^2$ and $\mathrm{sigmoid}' = y(1 - y)$.
#
# We plot every function and its derivative, and mark a few central
# differences on the derivative curves as an independent check.

# %%
names = ["relu", "leaky_relu", "tanh", "sigmoid", "softplus"]
x_grid = np.linspace(-4, 4, 801)
x_dots = np.linspace(-3.6, 3.6, 10)  # an even count misses the ReLU kink at 0

fig = Figure(figsize=(15, 5.6), layout="constrained")
axes = fig.subplots(2, len(names), sharex=True)
for column, name in enumerate(names):
    forward, backward = activations.ACTIVATIONS[name]
    y_grid = forward(x_grid)
    slope = backward(np.ones_like(x_grid), x_grid, y_grid)  # f'(x), since d_y = 1
    numeric = (forward(x_dots + H) - forward(x_dots - H)) / (2 * H)

    axes[0, column].plot(x_grid, y_grid, color="C0", lw=2)
    axes[0, column].set_title(name, fontsize=14)
    axes[1, column].plot(x_grid, slope, color="C1", lw=2, label="f_backward")
    axes[1, column].plot(x_dots, numeric, "o", color="k", ms=4, label="central difference")
    for ax in axes[:, column]:
        ax.axhline(0, color="0.7", lw=0.8)
        ax.axvline(0, color="0.7", lw=0.8)
        ax.grid(alpha=0.3)
    axes[1, column].set_xlabel("x", fontsize=12)
axes[0, 0].set_ylabel("f(x)", fontsize=12)
axes[1, 0].set_ylabel("f'(x)", fontsize=12)
axes[1, 0].legend(fontsize=9, loc="upper left")
save(fig, "00_activations.png")
for x0 in (3.0, 5.0):  # how fast tanh and sigmoid saturate
    x_point = np.array([x0])
    d_sigmoid = activations.sigmoid_backward(np.ones(1), x_point, activations.sigmoid(x_point))[0]
    d_tanh = activations.tanh_backward(np.ones(1), x_point, activations.tanh(x_point))[0]
    print(f"at |x| = {x0:g}: sigmoid'(x) = {d_sigmoid:.2g}, tanh'(x) = {d_tanh:.2g}")

# %% [markdown]
# Top row: the functions; bottom row: their derivatives as ``f_backward``
# computes them (orange), with central differences as black dots lying on the
# curves. Three things to see:
#
# * ReLU's derivative is a step: 0 for negative inputs (a "dead" unit passes
#   no gradient back), 1 for positive ones. Leaky ReLU keeps a slope of 0.01
#   on the left, too small to see at this scale, so that no unit dies
#   completely.
# * tanh and sigmoid saturate: their derivatives shrink fast away from 0
#   (printed above: at $|x| = 3$ sigmoid's is 0.045 and tanh's 0.0099, at
#   $|x| = 5$ 0.0066 and 0.00018), and sigmoid's never exceeds $1/4$.
#   Gradients that pass through many saturated units shrink.
# * softplus is a smooth ReLU, and its derivative is exactly the sigmoid.
#
# ### Stable formulas
#
# Written naively, $\mathrm{sigmoid}(x) = 1/(1 + e^{-x})$ overflows for very negative
# $x$ and $\log(1 + e^x)$ for large $x$. numvae only ever exponentiates
# $-|x|$, so neither can happen.

# %%
extreme = np.array([-1000.0, -20.0, 0.0, 20.0, 1000.0])
with np.errstate(over="ignore"):  # the naive formulas are *meant* to overflow here
    naive_sigmoid = 1 / (1 + np.exp(-extreme))
    naive_softplus = np.log(1 + np.exp(extreme))
print("x               ", extreme)
print("naive softplus  ", naive_softplus)
print("stable softplus ", activations.softplus(extreme))
print("naive sigmoid   ", naive_sigmoid)
print("stable sigmoid  ", activations.sigmoid(extreme))

# %% [markdown]
# The naive softplus returns ``inf`` at $x = 1000$, where the answer is
# simply 1000; the stable one is exact everywhere. (The naive sigmoid happens
# to survive, because $1/\infty = 0$, but only after an overflow warning.)
#
# ## 3. A Dense layer: forward and backward
#
# A Dense layer maps a batch ``x`` of shape (batch, fan_in) to
# $y = xW + b$ of shape (batch, fan_out). Given the upstream gradient
# $\bar y = \partial L / \partial y$, apply the chain rule entry by entry
# first. For example $n$ and output $k$,
#
# $$y_{nk} = \sum_i x_{ni} W_{ik} + b_k, \qquad\text{so}\qquad
#   \frac{\partial y_{nk}}{\partial W_{ik}} = x_{ni}, \quad
#   \frac{\partial y_{nk}}{\partial b_k} = 1, \quad
#   \frac{\partial y_{nk}}{\partial x_{ni}} = W_{ik}.$$
#
# The loss depends on a parameter through every $y_{nk}$ that parameter
# touches, and the chain rule sums over them. $W_{ik}$ is used by every
# example $n$ (for output $k$); $x_{ni}$ feeds every output $k$:
#
# $$\bar W_{ik} = \sum_n \bar y_{nk}\, x_{ni}, \qquad
#   \bar b_k = \sum_n \bar y_{nk}, \qquad
#   \bar x_{ni} = \sum_k \bar y_{nk}\, W_{ik}.$$
#
# Each sum is a matrix product: the first runs over the shared index $n$ of
# $x^\top$ and $\bar y$, the last over $k$ of $\bar y$ and $W^\top$:
#
# $$\bar W = x^\top \bar y, \qquad \bar b = \textstyle\sum_{\text{batch}} \bar y, \qquad
#   \bar x = \bar y\, W^\top .$$
#
# A quick way to remember them: each gradient has the shape of the thing it is
# the gradient of, and there is only one way to multiply the available arrays
# to get that shape.
#
# These three lines are the whole of the math, and they are two pure functions,
# ``dense_forward(x, W, b)`` and ``dense_backward(d_y, x, W) -> (d_W, d_b, d_x)``
# in ``numvae.layers`` (the exercise ``dense`` asks you to write them). A layer
# that trains is these functions plus state: its ``W`` and ``b``, and the
# input ``x`` that forward keeps for backward. Here is one, built on the
# functions and nothing else; ``numvae.layers.Dense`` is this class, with an
# initialisation.
#
# To test it we need a scalar loss. $L = \sum_{ij} y_{ij} r_{ij}$ with a
# fixed random $r$ has $\partial L / \partial y = r$, so every entry of the
# upstream gradient is different and no mistake can hide behind a symmetry.
# The bias starts away from zero for the same reason: a zero bias would hide
# a wrong $\bar b$ in any check that looks at the output alone.

# %%
class Dense:
    """y = x W + b, holding W and b: the two functions, plus the state they need."""

    def __init__(self, W, b):
        self.params = {"W": W, "b": b}  # (fan_in, fan_out), (fan_out,)
        self.grads = {}
        self.cache = None  # the input x, written by forward, read by backward

    def forward(self, x):
        self.cache = x
        return dense_forward(x, self.params["W"], self.params["b"])

    def backward(self, d_y):
        self.grads["W"], self.grads["b"], d_x = dense_backward(d_y, self.cache, self.params["W"])
        return d_x


batch_size, fan_in, fan_out = 4, 3, 2
bound = np.sqrt(3.0 / fan_in)  # numvae's initialisation: W ~ U(-a, a), standard deviation 1/sqrt(fan_in)
layer = Dense(rng.uniform(-bound, bound, size=(fan_in, fan_out)),
              np.linspace(-0.5, 0.5, fan_out))  # float64: right for checks; a bias that is not zero
x_small = rng.standard_normal((batch_size, fan_in))  # (batch, fan_in)
r = rng.standard_normal((batch_size, fan_out))  # (batch, fan_out), the upstream gradient


def dense_loss():
    return float(np.sum(layer.forward(x_small) * r))


dense_loss()  # forward: fills layer.cache with x, which backward needs
d_x = layer.backward(r)
print("shapes: W", layer.params["W"].shape, " grad W", layer.grads["W"].shape,
      " b", layer.params["b"].shape, " grad b", layer.grads["b"].shape, " d_x", d_x.shape)

# The checker perturbs each parameter in place and calls dense_loss again, which
# overwrites the cache; copy the analytic gradients first.
analytic = {name: g.copy() for name, g in layer.grads.items()}
report = check_gradients(dense_loss, layer.params, analytic)
print(report)

# The input is not a parameter, but its gradient is what flows to the layer below.
print(compare("x", d_x, numerical_gradient(dense_loss, x_small)))

# numvae's Dense computes with the same two functions: the same numbers, bit for bit.
numvae_layer = layers.Dense(fan_in, fan_out, np.random.default_rng(0))
numvae_layer.params["W"][...], numvae_layer.params["b"][...] = layer.params["W"], layer.params["b"]
numvae_layer.forward(x_small)
numvae_layer.backward(r)
print("numvae.layers.Dense gives the same gradients:",
      all(np.array_equal(numvae_layer.grads[k], analytic[k]) for k in analytic))

# %% [markdown]
# Each line reads: the parameter, the **relative error**
# $\max_i |a_i - n_i| \,/\, \max(\max_i |a_i|, \max_i |n_i|)$ between the
# analytic gradient $a$ and the numerical one $n$, where the two differ most,
# and both values there. Here, with a loss of a few units and gradient
# entries of order one, the correct backward pass agrees to the printed
# $10^{-11}$ or so; a wrong one (a missing transpose, a forgotten sum over the
# batch) gives errors of order 1. How small "correct" is depends on the ratio
# of the loss to the gradient (section 5): for a loss of about 10 with
# gradient entries of about $10^{-3}$, round-off alone gives about $10^{-7}$,
# still under the $10^{-6}$ the tests demand, but not by orders of magnitude.
#
# ## 4. A whole network, then the whole VAE
#
# An ``MLP`` chains Dense and activation layers; its backward runs the
# layers' backward passes in reverse order. The check does not care how deep
# the network is: it treats the loss as a black box of its parameters.

# %%
mlp = MLP((5, 8, 8, 3), "tanh", rng)
x_mlp = rng.standard_normal((6, 5))  # (batch, 5)
r_mlp = rng.standard_normal((6, 3))  # (batch, 3)
mlp_params = mlp.parameters("mlp")  # name -> array: "mlp.0.W", "mlp.0.b", ...


def mlp_loss():
    return float(np.sum(mlp.forward(x_mlp) * r_mlp))


mlp_loss()
mlp.backward(r_mlp, need_d_x=False)
mlp_analytic = {name: g.copy() for name, g in mlp.gradients("mlp").items()}
print(check_gradients(mlp_loss, mlp_params, mlp_analytic).assert_close(1e-6))

# %% [markdown]
# Now the real thing. ``numvae.check_model`` draws the reparameterization
# noise ``eps`` once and replays it for every evaluation, so that the VAE's
# loss becomes a deterministic function of its parameters, the encoder's
# $\phi$ and the decoder's $\theta$ (lecture 02 explains that noise). A tiny
# VAE keeps the number of loss evaluations, two per parameter, small.

# %%
vae64 = numvae.VAE(input_dim=8, hidden_dims=(6,), latent_dim=3, dtype=np.float64, seed=1)
x_vae = rng.uniform(0, 1, size=(5, 8))  # (batch, input_dim): Bernoulli data lies in [0, 1]
eps_vae = rng.standard_normal((5, 3))  # (batch, latent_dim), replayed by every check below
report64 = numvae.check_model(vae64, x_vae, eps=eps_vae, h=H)
print(report64)
print("worst:", report64.worst.name, f"{report64.worst.relative_error:.1e}")

# %% [markdown]
# Every parameter of encoder and decoder, including the path through the
# sampler and the KL term, agrees with central differences to about
# $10^{-9}$ or better (the worst is printed last). This is the proof the rest of the course relies on.
#
# ## 5. Why the check runs in float64
#
# Training uses float32 (half the memory, faster matrix products), so why not
# check in float32 too? Because of how a central difference fails. Its error
# has two parts:
#
# * **truncation**: the Taylor terms the formula ignores,
#   $\approx \frac{h^2}{6} |f'''|$, which shrinks as $h$ shrinks;
# * **round-off**: $f$ is computed with a relative error of about the unit
#   round-off $u$ of the float type, so each of $f(\omega \pm h)$ is off by
#   $\approx u |f|$, and dividing their difference by $2h$ turns that into
#   an error of $\approx u |f| / h$, which *grows* as $h$ shrinks. Relative
#   to the derivative, that is $u|f| / (h|f'|)$: a large loss with small
#   gradients is the hard case.
#
# With $u = 2^{-53} \approx 1.1 \times 10^{-16}$ (float64) there is a wide
# range of $h$ where both are tiny. With $u = 2^{-24} \approx 6 \times 10^{-8}$
# (float32) the two lines cross high up, at a large $h$. We measure it on a
# smooth function, $f(\omega) = \sum_j \mathrm{softplus}(\omega\, c_j)$
# for a fixed vector $c$, whose derivative
# $f'(\omega) = \sum_j c_j\, \mathrm{sigmoid}(\omega c_j)$ is known exactly.

# %%
c = rng.uniform(0.5, 2.0, size=50)  # fixed coefficients; f(ω) is printed below (about 65 here)
omega = 0.8
exact = float(np.sum(c * activations.sigmoid(omega * c)))
f_size = float(np.sum(activations.softplus(omega * c)))
print(f"f(ω) = {f_size:.1f} at ω = {omega}")
steps = np.logspace(-12, -0.5, 47 if not FAST else 12)


def central_difference(dtype, h):
    """(f(ω+h) − f(ω−h)) / 2h with every operation, and h itself, in ``dtype``."""
    omega_d, h_d, c_d = dtype(omega), dtype(h), c.astype(dtype)
    f_plus = np.sum(activations.softplus((omega_d + h_d) * c_d))
    f_minus = np.sum(activations.softplus((omega_d - h_d) * c_d))
    return float((f_plus - f_minus) / (2 * h_d))


errors = {dtype: np.array([abs(central_difference(dtype, h) - exact) / abs(exact) for h in steps])
          for dtype in (np.float64, np.float32)}
for dtype, err in errors.items():
    best = np.argmin(err)
    print(f"{dtype.__name__}: best relative error {err[best]:.1e} at h = {steps[best]:.0e}; "
          f"at h = {H:.0e}: {np.interp(np.log10(H), np.log10(steps), err):.1e}")

omega_spacing = float(np.spacing(np.float32(omega)))  # float32's gap between ω and its neighbours
f_spacing = float(np.spacing(np.float32(f_size)))  # ... and between f(ω) and its neighbours
exactly_one = steps[errors[np.float32] == 1.0]  # the difference was exactly 0
print(f"float32: spacing at ω = {omega}: {omega_spacing:.2e}, so ω ± h rounds to ω for h < {omega_spacing / 2:.2e}; "
      f"moved one spacing each way, f(ω+h) − f(ω−h) ≈ 2·{omega_spacing:.1e}·|f'| = {2 * omega_spacing * exact:.1e}, "
      f"against float32's spacing {f_spacing:.1e} at |f| = {f_size:.0f}")
print(f"float32: relative error exactly 1 at {len(exactly_one)} of {len(steps)} steps, "
      f"the largest h = {exactly_one.max():.1e}; the next step up gives {errors[np.float32][len(exactly_one)]:.2f}")

# %% [markdown]
# The plot below shows the measured relative error against $h$, with the two
# predicted error terms as thin lines.

# %%
third = float(np.sum(c**3 * activations.sigmoid(omega * c) * (1 - activations.sigmoid(omega * c))
                     * (1 - 2 * activations.sigmoid(omega * c))))  # f'''(ω), for the truncation line
fig = Figure(figsize=(8, 5.2), layout="constrained")
ax = fig.subplots()
for (dtype, err), color in zip(errors.items(), ["C0", "C3"]):
    unit_roundoff = np.finfo(dtype).eps / 2  # u: 2^-53 for float64, 2^-24 for float32
    ax.loglog(steps, np.maximum(err, 1e-17), "o-", color=color, ms=4, label=f"{dtype.__name__}: measured")
    ax.loglog(steps, unit_roundoff * f_size / steps / abs(exact), ":", color=color,
              label=rf"{dtype.__name__}: round-off $u|f|/h$")
ax.loglog(steps, steps**2 * abs(third) / 6 / abs(exact), "--", color="0.4", label=r"truncation $h^2|f'''|/6$")
ax.axvline(H, color="0.6", lw=0.8)
ax.text(1.3 * H, 1e-15, f"h = {H:.0e}\n(numvae's default)", fontsize=10, color="0.4")
ax.set_ylim(1e-17, 10)
ax.set_xlabel("step h", fontsize=12)
ax.set_ylabel("relative error of the central difference", fontsize=12)
ax.set_title("Round-off against truncation", fontsize=14)
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize=9, loc="lower left")
save(fig, "00_step_size.png")

# %% [markdown]
# Read the plot from right to left. At large $h$ both dtypes follow the
# truncation line (dashed) down with slope 2. Then each curve meets its
# round-off regime and turns back up with slope $-1$. The dotted round-off
# lines are an estimate of its size, not a bound: the measured points scatter
# around them and mostly below (rounding errors partly cancel), and rise at
# the same rate.
#
# * float64 reaches its best, about $10^{-12}$, near $h \approx 10^{-5}$, right
#   where numvae's default $h = 10^{-5}$ sits, and the valley is wide: any
#   $h$ from $10^{-7}$ to $10^{-4}$ would give $10^{-8}$ or better.
# * float32 reaches its best, only a few $10^{-6}$, at $h \approx 10^{-2}$,
#   a step that only suits this smooth toy: where the valley lies depends on
#   the third derivative, which nobody knows for a network's loss. At
#   $h = 10^{-5}$ the error is already a few $10^{-3}$, a thousand times
#   the tolerance of the tests. Below $h \approx 10^{-7}$ it is exactly 1:
#   the difference is 0, and so is the "gradient". The printout gives two
#   reasons. Below half of float32's spacing at $\omega = 0.8$
#   ($2^{-25} \approx 3 \times 10^{-8}$), $\omega \pm h$ rounds to $\omega$
#   itself. Above it, $\omega \pm h$ moves by one spacing ($2^{-24}$) each
#   way, but that changes $f(\omega + h) - f(\omega - h)$ by about
#   $5 \times 10^{-6}$, less than the spacing of float32 numbers near
#   $|f| \approx 65$ ($2^{-17} \approx 7.6 \times 10^{-6}$), and here the
#   two round to the same number. From the next step, $h = 10^{-7}$, they
#   differ, and the error drops below 1.
#
# ### The same VAE, checked in float32
#
# ``numvae.numerical_gradient`` refuses float32 arrays for this reason: its
# guard ``require_float64=True`` is on by default. To see what it protects us
# from, we switch it off on purpose (``require_float64=False``) and repeat the
# VAE check with a float32 copy of the same model (same seed, so the same
# initial weights, rounded): the central differences are now taken in float32,
# again with $h = 10^{-5}$, the same data and the same ``eps``.

# %%
vae32 = numvae.VAE(input_dim=8, hidden_dims=(6,), latent_dim=3, dtype=np.float32, seed=1)
vae32.loss(x_vae, eps_vae)
analytic32 = {name: g.copy() for name, g in vae32.backward().items()}

report32 = [compare(name, analytic32[name],
                    numerical_gradient(lambda: vae32.loss(x_vae, eps_vae).loss, p, h=H, require_float64=False))
            for name, p in vae32.parameters().items()]
for check in report32:
    print(check)
loss32 = vae32.loss(x_vae, eps_vae).loss
print(f"|loss| = {abs(loss32):.2f}; predicted round-off u*|loss|/h = "
      f"{np.finfo(np.float32).eps / 2 * abs(loss32) / H:.2f} per gradient entry")

# %% [markdown]
# Side by side, per parameter:

# %%
param_names = [c.name for c in report64.checks]
fig = Figure(figsize=(9, 4.8), layout="constrained")
ax = fig.subplots()
positions = np.arange(len(param_names))
ax.bar(positions - 0.2, [c.relative_error for c in report64.checks], width=0.4, color="C0", label="float64")
ax.bar(positions + 0.2, [c.relative_error for c in report32], width=0.4, color="C3", label="float32")
ax.axhline(1e-6, color="k", lw=1, ls="--", label="tolerance of the tests (1e-6)")
ax.set_yscale("log")
ax.set_ylim(top=1e3)  # headroom for the legend above the float32 bars
ax.set_xticks(positions, param_names, rotation=30, ha="right")
ax.set_ylabel("relative error", fontsize=12)
ax.set_title(f"Gradient check of the same VAE, h = {H:.0e}", fontsize=14)
ax.grid(alpha=0.3, axis="y")
ax.legend(fontsize=10, ncol=3, loc="upper left")
save(fig, "00_gradcheck_dtypes.png")

# %% [markdown]
# In float64 (blue) every parameter passes with many orders of magnitude to
# spare. In float32 (red) the *same, correct* backward pass shows relative
# errors of a few percent up to 15 %: the numerical gradient is dominated by
# round-off, not by any mistake. The printout predicted it: for the printed
# loss, $u|f|/h$ is a few hundredths, comparable with the gradient
# entries themselves (look at the numerical values printed above: 0.0954
# and 0.0477 recur, a few float32 rounding steps of the loss divided by $2h$,
# not derivatives).
# A float32 check would either fail correct code or, with its tolerance
# loosened to pass, let real bugs through. So: check in
# float64, train in float32.
#
# One limit of gradient checks to keep in mind for lecture 02: they
# prove that backward matches forward, not that forward is the right formula.
# If the sampler used ``std = exp(log_var)`` instead of
# ``exp(0.5 * log_var)`` and the backward pass matched that mistake, every
# check above would still pass. Only a test of what the sampler *produces*
# catches it.


# %% [markdown]
# ## Exercises for this lecture
#
# Write the activations and the dense layer of this lecture yourself, then
# check it (`numvae exercises hint lecture00 NAME` gives a hint at a time, from
# what to differentiate to the formula):
#
# ```bash
# numvae exercises start lecture00 --only relu,tanh,sigmoid,softplus,dense
# numvae exercises check lecture00
# ```
#
# **Questions.**
#
# 1. The backward of tanh and of sigmoid receives both x and y. Which one does
#    each derivative need, and why is that the cheaper choice?
# 2. Why does the bias gradient sum over the batch while the input gradient
#    does not?
# 3. A gradient check in float32 fails a correct backward pass. Which term of
#    the central difference's error is to blame, and how does it scale with h?
#
# **Numerical questions**, graded by `numvae exercises check lecture00 questions`:
# write each answer as a number in the workbook's `questions.py` (a relative
# 1e-3 is enough unless it says otherwise).
#
# - `dense_q1`: $y = xW + b$ with $x = [[1, 2]]$, $W = [[3], [4]]$, $b = [5]$
#   and upstream gradient $\bar y = [[1]]$. What is $\partial L / \partial
#   W_{10}$?
# - `sigmoid_q1`: What is sigmoid'(0)?
