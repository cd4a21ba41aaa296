r"""Hand-written optimizers: SGD with momentum, and Adam.

Each update rule is a function first (:func:`sgd_momentum_step`,
:func:`adam_step`), which updates its arrays in place; the classes ``SGD``
and ``Adam`` hold a dict ``params`` of live arrays (name -> ndarray) and the
optimizer's state, and apply the rule to every parameter from a dict of
gradients with the same keys::

    opt = Adam(model.parameters(), lr=1e-3)
    model.loss(x); opt.step(model.backward())
"""

from collections.abc import Mapping

import numpy as np

from .util import checks


def _describe(p):
    if not isinstance(p, np.ndarray):
        return type(p).__name__
    return f"dtype {p.dtype}" if p.dtype.kind != "f" else f"a read-only {p.dtype} array"


class Optimizer:
    """Shared bookkeeping: the parameters, the step count and a state dict."""

    _non_negative = ()  # state slots that can never be negative

    def __init__(self, params, lr):
        if not isinstance(params, Mapping):
            raise ValueError(f"params: expected a dict of name -> array, got {type(params).__name__}")
        # Checked now: a step that failed on one of them would already have moved t and the state.
        for name, p in params.items():
            if not (isinstance(p, np.ndarray) and p.dtype.kind == "f" and p.flags.writeable):
                raise ValueError(f"params[{name!r}]: expected a writable floating-point ndarray (updated in place), "
                                 f"got {_describe(p)}")
        self.params = dict(params)
        self.lr = checks.real("lr", lr, minimum=0, strict=True)
        self.t = 0  # number of steps taken

    def _zeros(self):
        """One zeroed array per parameter."""
        return {name: np.zeros_like(p) for name, p in self.params.items()}

    def _check(self, grads):
        """Check every gradient before any update: a refused step changes nothing, not even t."""
        if not isinstance(grads, Mapping):
            raise ValueError(f"grads: expected a dict of arrays keyed like params, got {type(grads).__name__}")
        if grads.keys() != self.params.keys():
            raise ValueError(f"grads: expected the keys {sorted(self.params)}, got {sorted(grads)}")
        for name, p in self.params.items():
            g = np.asarray(grads[name])
            if g.shape != p.shape:
                raise ValueError(f"grads[{name!r}]: expected shape {p.shape}, got shape {g.shape}")
            if g.dtype.kind not in "fiu" or not np.can_cast(g.dtype, p.dtype, "same_kind"):
                raise ValueError(f"grads[{name!r}]: expected real numbers storable as {p.dtype}, got dtype {g.dtype}")

    def state_dict(self):
        """Everything needed to resume: the step count and each buffer, copied."""
        state = {"t": self.t}
        for slot, arrays in self._slots().items():
            for name, value in arrays.items():
                state[f"{slot}.{name}"] = value.copy()
        return state

    def load_state_dict(self, state):
        """Restore what ``state_dict`` returned.

        Everything is checked before anything is restored, so a refused state
        leaves the optimizer as it was: exactly the keys of ``state_dict()``
        (Adam's state does not fit SGD), ``t`` an integer >= 0, and buffers of
        the right shapes holding finite real numbers (>= 0 for the slots in
        ``_non_negative``, such as Adam's second moments, whose square root a
        step takes).
        """
        if not isinstance(state, Mapping):
            raise ValueError(f"state: expected a dict as returned by state_dict(), got {type(state).__name__}")
        current = {f"{slot}.{name}": value for slot, arrays in self._slots().items() for name, value in arrays.items()}
        if state.keys() != {"t", *current}:
            raise ValueError(f"state: expected the keys {sorted(['t', *current])} of "
                             f"{type(self).__name__}.state_dict(), got {sorted(state)}")
        t = checks.non_negative_int("state['t']", state["t"])
        saved = {key: np.asarray(state[key]) for key in current}
        for key, value in current.items():
            array = saved[key]
            if array.shape != value.shape:
                raise ValueError(f"state[{key!r}]: expected shape {value.shape}, got shape {array.shape}")
            if array.dtype.kind not in "fiu" or not np.can_cast(array.dtype, value.dtype, "same_kind"):
                raise ValueError(f"state[{key!r}]: expected finite real numbers storable as {value.dtype}, "
                                 f"got dtype {array.dtype}")
            if not np.all(np.isfinite(array)):
                raise ValueError(f"state[{key!r}]: expected finite real numbers, got {array[~np.isfinite(array)][0]}")
            if key.partition(".")[0] in self._non_negative and np.any(array < 0):
                raise ValueError(f"state[{key!r}]: expected numbers >= 0 (squared gradients), got {array.min():g}")
        self.t = t
        for key, value in current.items():
            value[...] = saved[key]


def sgd_momentum_step(param, grad, velocity, lr, momentum):
    r"""One step of SGD with (heavy-ball) momentum, PyTorch's convention; in place.

    .. math::
        v \leftarrow \gamma v + g, \qquad \omega \leftarrow \omega - \eta v

    for the parameter ω = ``param`` and its gradient g = ``grad``. With
    momentum γ = 0 this is plain SGD, :math:`\omega \leftarrow \omega - \eta g`.

    Parameters
    ----------
    param, grad, velocity : ndarray, all of one shape
        ``param`` and ``velocity`` are updated in place.
    lr : float
        The learning rate η.
    momentum : float
        The momentum coefficient γ.

    Returns
    -------
    param, velocity : ndarray, the same arrays, updated
    """
    velocity *= momentum
    velocity += grad  # v ← γ v + g
    param -= lr * velocity  # ω ← ω − η v
    return param, velocity


class SGD(Optimizer):
    r"""Stochastic gradient descent with momentum: :func:`sgd_momentum_step` on every parameter.

    Parameters
    ----------
    params : dict of str -> ndarray
        Updated in place.
    lr : float > 0
        Learning rate η.
    momentum : float in [0, 1)
        The momentum coefficient γ.
    """

    def __init__(self, params, lr=0.01, momentum=0.9):
        super().__init__(params, lr)
        self.momentum = checks.real("momentum", momentum, minimum=0)
        if self.momentum >= 1:
            raise ValueError(f"momentum: expected a number in [0, 1), got {momentum!r}")
        self.velocity = self._zeros()

    def _slots(self):
        return {"velocity": self.velocity}

    def step(self, grads):
        """One update from ``grads`` (same keys and shapes as ``params``)."""
        self._check(grads)
        self.t += 1
        for name, p in self.params.items():
            sgd_momentum_step(p, grads[name], self.velocity[name], self.lr, self.momentum)


def adam_step(param, grad, m, v, t, lr, betas=(0.9, 0.999), epsilon=1e-8):
    r"""Step t (counting from 1) of Adam: Algorithm 1 of Kingma & Ba (2015, arXiv:1412.6980).

    With decay rates ρ₁, ρ₂ (the paper's β₁, β₂; numvae keeps β for the KL
    weight), stabilizing constant δ (the paper's ε), the parameter ω = ``param``
    (the paper's θ; numvae keeps θ for the decoder's) and its gradient g:

    .. math::
        m \leftarrow \rho_1 m + (1 - \rho_1) g, \qquad
        v \leftarrow \rho_2 v + (1 - \rho_2) g^2,

    .. math::
        \hat m = \frac{m}{1 - \rho_1^t}, \qquad \hat v = \frac{v}{1 - \rho_2^t}, \qquad
        \omega \leftarrow \omega - \eta \frac{\hat m}{\sqrt{\hat v} + \delta}.

    **Why divide by** :math:`1 - \rho_1^t`. From :math:`m_0 = 0`, unrolling the
    update gives :math:`m_t = (1 - \rho_1) \sum_{i=1}^t \rho_1^{t-i} g_i`. If the
    gradients have a common mean, :math:`\mathbb E[g_i] = \bar g`, then
    :math:`\mathbb E[m_t] = \bar g\,(1 - \rho_1) \sum_{i=0}^{t-1} \rho_1^i = \bar g\,(1 - \rho_1^t)`:
    the zero start biases m towards 0 (by a factor 0.1 at t = 1 with ρ₁ = 0.9),
    and dividing by :math:`1 - \rho_1^t` removes exactly that factor. The same
    holds for v with ρ₂ and :math:`g^2`; with ρ₂ = 0.999 the factor stays well
    below 1 for the first thousand or so steps.

    δ is part of the algorithm, not a fudge: it keeps the step finite where a
    gradient has been 0 so far (the paper's 1e-8).

    The update is done in place, each line of Algorithm 1 in turn, with
    ``out=`` into one scratch array: the arrays are as large as the model
    (313,600 weights in its first layer), and a new array for every
    operation costs more than the arithmetic (three times the time, measured).

    Parameters
    ----------
    param, grad, m, v : ndarray, all of one shape
        ``param``, ``m`` and ``v`` are updated in place.
    t : int >= 1
    lr : float
        The step size η.
    betas : (float, float)
        The decay rates ρ₁, ρ₂.
    epsilon : float
        The stabilizing constant δ.

    Returns
    -------
    param, m, v : ndarray, the same arrays, updated
    """
    beta1, beta2 = betas
    scratch = np.empty_like(param)
    m *= beta1
    m += np.multiply(1 - beta1, grad, out=scratch)  # m ← ρ₁ m + (1 − ρ₁) g
    v *= beta2
    v += np.multiply(1 - beta2, np.square(grad, out=scratch), out=scratch)  # v ← ρ₂ v + (1 − ρ₂) g²
    v_hat = np.divide(v, 1 - beta2**t, out=scratch)  # v̂ = v / (1 − ρ₂ᵗ)
    denominator = np.add(np.sqrt(v_hat, out=scratch), epsilon, out=scratch)  # √v̂ + δ
    ratio = np.divide(m, denominator, out=scratch)  # m / (√v̂ + δ)
    param -= np.multiply(lr / (1 - beta1**t), ratio, out=scratch)  # ω ← ω − η m̂ / (√v̂ + δ), m̂ = m / (1 − ρ₁ᵗ)
    return param, m, v


class Adam(Optimizer):
    r"""Adam with bias correction: :func:`adam_step` on every parameter.

    Parameters
    ----------
    params : dict of str -> ndarray
        Updated in place.
    lr : float > 0
        Step size η.
    betas : (float, float)
        Decay rates ρ₁, ρ₂ of the moment estimates, each in [0, 1)
        (named ``betas`` as in PyTorch).
    epsilon : float > 0
        The stabilizing constant δ.
    """

    _non_negative = ("v",)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), epsilon=1e-8):
        super().__init__(params, lr)
        try:
            self.beta1, self.beta2 = (checks.real("betas", b, minimum=0) for b in betas)
        except (TypeError, ValueError):
            raise ValueError(f"betas: expected two numbers in [0, 1), got {betas!r}") from None
        if self.beta1 >= 1 or self.beta2 >= 1:
            raise ValueError(f"betas: expected two numbers in [0, 1), got {betas!r}")
        self.epsilon = checks.real("epsilon", epsilon, minimum=0, strict=True)
        self.m = self._zeros()
        self.v = self._zeros()

    def _slots(self):
        return {"m": self.m, "v": self.v}

    def step(self, grads):
        """One update from ``grads`` (same keys and shapes as ``params``)."""
        self._check(grads)
        self.t += 1
        for name, p in self.params.items():
            adam_step(p, grads[name], self.m[name], self.v[name], self.t, self.lr, (self.beta1, self.beta2), self.epsilon)
