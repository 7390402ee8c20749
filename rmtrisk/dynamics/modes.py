"""Exact mode dynamics of the two-layer linear DAE on the noise-averaged loss.

The model is the one of Pretorius, Kroon & Kamper, "Learning dynamics of linear denoising
autoencoders" (ICML 2018, arXiv:1806.05413), written in rmtrisk's conventions
(docs/conventions.md, docs/dynamics.md):

* data ``X`` is ``d x N`` (one sample per column), noise ``A`` has i.i.d. ``N(0, eta2_train/d)``
  entries, the network is ``W2 W1`` and the loss a **sum** over samples,
  ``L = 1/2 ||X - W2 W1 (X + A)||_F^2 + (wd/2)(||W1||_F^2 + ||W2||_F^2)``;
* averaged over ``A`` it is ``1/2 ||X - W X||_F^2 + (nu/2)||W||_F^2 + (wd/2)(...)`` with
  ``nu = N eta2_train / d``, i.e. :func:`rmtrisk.montecarlo.training.dae_loss` with
  ``Y = T = X`` and ``reg = nu`` (plus the weight decay);
* a mode is an eigenvector of ``X X^T`` with eigenvalue ``a = sv**2``; time ``s`` is
  gradient-flow time on that summed loss, ``dW/ds = -dL/dW``.

For a balanced mode (``w1 = w2``, ``u = w1 w2 > 0``) the flow is the logistic equation
``du/ds = 2 u ((a - wd) - (a + nu) u)`` with fixed point ``u* = (a - wd)/(a + nu)`` and rate
``2 (a - wd)``. :func:`mode_value` evaluates its solution in a form that never overflows;
:func:`hyperbolic_mode_value` is the solution for unbalanced starts (``wd = 0``), where
``w1**2 - w2**2`` is conserved. :func:`paper_to_rmtrisk` converts the paper's parameters, and
:func:`published_mode_value` evaluates the published formula in the published conventions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "PaperParameters",
    "hyperbolic_mode_value",
    "mode_fixed_point",
    "mode_rate",
    "mode_value",
    "noise_product_regularization",
    "paper_to_rmtrisk",
    "published_hyperbolic_value",
    "published_mode_value",
]


def _array(name: str, value, *, lo: float | None = 0.0, strict: bool = False,
           finite: bool = True) -> np.ndarray:
    """``value`` as a float array, checked: finite and ``>= lo`` (``> lo`` if ``strict``)."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or an array of numbers, got {value!r}") \
            from None
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if lo is not None:
        bad = arr <= lo if strict else arr < lo
        if np.any(bad):
            rel = ">" if strict else ">="
            raise ValueError(f"{name} must be {rel} {lo:g}, got {value!r}")
    return arr


def noise_product_regularization(eta2_train: float, n: int, d: int) -> float:
    """The product regularization ``nu = N eta2_train / d`` that the training noise becomes
    in the noise-averaged loss (rmtrisk units: ``E_A L = dae_loss(W; X, X, reg=nu)``)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"d must be an integer >= 1, got {d!r}")
    eta2 = float(_array("eta2_train", eta2_train))
    return n * eta2 / d


def mode_fixed_point(a, nu=0.0, wd=0.0) -> np.ndarray:
    """Fixed point ``u* = max(0, a - wd) / (a + nu)`` of a balanced mode.

    Parameters
    ----------
    a : float or array
        Eigenvalue of ``X X^T`` (``sv**2``), ``>= 0``.
    nu : float or array
        Noise as product regularization, ``N eta2_train / d`` (``>= 0``).
    wd : float or array
        Weight decay on the summed loss, ``>= 0``.

    Returns
    -------
    ndarray
        The limit of :func:`mode_value` as ``s -> inf`` for any ``u0 > 0``: ``0`` when
        ``a <= wd`` (the mode dies), never ``0`` for ``wd = 0`` and ``a > 0`` (noise alone
        never kills a mode).
    """
    a, nu, wd = _array("a", a), _array("nu", nu), _array("wd", wd)
    if np.any(a + nu <= 0):
        raise ValueError("a + nu must be > 0 (a mode with a = nu = 0 has no dynamics)")
    return np.maximum(a - wd, 0.0) / (a + nu)


def mode_rate(a, wd=0.0) -> np.ndarray:
    """Logistic rate ``2 (a - wd)`` of a balanced mode (inverse time constant; negative for a
    dying mode), in gradient-flow time ``s`` on the summed loss."""
    return 2.0 * (_array("a", a) - _array("wd", wd))


def mode_value(s, a, nu=0.0, wd=0.0, u0=1e-6) -> np.ndarray:
    """Balanced mode ``u(s)`` of the noise-averaged flow, overflow-free.

    Solves ``du/ds = 2u((a - wd) - (a + nu) u)``, ``u(0) = u0``: with ``x = 2(a - wd)s``,

    * ``x >= 0``: ``u = u0 / (exp(-x) + u0 (a + nu) (-expm1(-x)) / (a - wd))``,
    * ``x < 0``: ``u = u0 exp(x) / (1 + u0 (a + nu) expm1(x) / (a - wd))``,
    * ``a = wd``: ``u = u0 / (1 + 2 u0 (a + nu) s)``.

    Every term is non-negative and no exponential of a positive number is taken, so no
    exponential overflows at any time or eigenvalue (the published form ``exp(+x)`` overflows
    for ``x > 709``); only products such as ``u0 (a + nu)`` beyond the float range could. It
    equals ``u*/(1 + (u*/u0 - 1) exp(-x))`` where that is finite.

    Parameters
    ----------
    s : float or array
        Gradient-flow time (``>= 0``) on the summed loss.
    a, nu, wd : float or array
        See :func:`mode_fixed_point`.
    u0 : float or array
        Starting value ``w1(0) w2(0) = w1(0)**2 > 0``.

    Returns
    -------
    ndarray
        ``u(s)``, broadcast over the inputs.
    """
    s = _array("s", s)
    a, nu, wd = _array("a", a), _array("nu", nu), _array("wd", wd)
    u0 = _array("u0", u0, strict=True)
    if np.any(a + nu <= 0):
        raise ValueError("a + nu must be > 0 (a mode with a = nu = 0 has no dynamics)")
    s, a, nu, wd, u0 = np.broadcast_arrays(s, a, nu, wd, u0)
    g = a - wd
    x = 2.0 * g * s
    b = a + nu
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # h = (1 - exp(-x)) / (a - wd) for x >= 0 and (exp(x) - 1) / (a - wd) for x < 0:
        # both are >= 0 and tend to 2 s as a -> wd
        pos = x >= 0
        h = np.where(pos, -np.expm1(-np.abs(x)), np.expm1(-np.abs(x))) / g
        h = np.where(g == 0, 2.0 * s, h)
        out = np.where(pos, u0 / (np.exp(-np.abs(x)) + u0 * b * h),
                       u0 * np.exp(-np.abs(x)) / (1.0 + u0 * b * h))
    return out[()] if out.ndim == 0 else out


def hyperbolic_mode_value(s, a, nu=0.0, u0=1e-6, delta=0.0) -> np.ndarray:
    """Mode ``u(s) = w1(s) w2(s)`` from an unbalanced start, without weight decay.

    Without weight decay ``delta = w1**2 - w2**2`` is conserved and
    ``du/ds = (a - (a + nu) u) sqrt(4 u**2 + delta**2)``. With ``u = (|delta|/2) sinh(theta)``
    this is solved in closed form (the hyperbolic trajectories of Saxe et al. 2014, used in the
    DAE paper's Figure 1); the value is computed through ``m = (2u + sqrt(4u**2 + delta**2))/4``,
    which moves on a Moebius map of ``exp(-R s)``, ``R = sqrt(4a**2 + (a + nu)**2 delta**2)``,
    between its roots ``m+ = (2a + R)/(4(a + nu)) > 0`` and ``m- = -delta**2/(16 m+) <= 0``:

    ``m(s) = (m0 (m+ - m- E) + m+ |m-| (1 - E)) / (m0 (1 - E) + m+ E + |m-|)``, ``E = e^{-Rs}``,

    a ratio of non-negative terms, and ``u = m - delta**2/(16 m)``. For ``delta = 0`` it is
    :func:`mode_value` with ``wd = 0``.

    Parameters
    ----------
    s : float or array
        Gradient-flow time (``>= 0``) on the summed loss.
    a, nu : float or array
        See :func:`mode_fixed_point`.
    u0 : float or array
        ``w1(0) w2(0)`` (any sign if ``delta != 0``; ``> 0`` if ``delta = 0``).
    delta : float or array
        ``w1(0)**2 - w2(0)**2`` (only ``|delta|`` matters).

    Returns
    -------
    ndarray
        ``u(s)``, broadcast over the inputs.
    """
    s = _array("s", s)
    a, nu = _array("a", a), _array("nu", nu)
    u0 = _array("u0", u0, lo=None)
    delta = np.abs(_array("delta", delta, lo=None))
    if np.any(a + nu <= 0):
        raise ValueError("a + nu must be > 0 (a mode with a = nu = 0 has no dynamics)")
    if np.any((delta == 0) & (u0 <= 0)):
        raise ValueError("u0 must be > 0 where delta = 0 (a balanced mode w1 = w2)")
    s, a, nu, u0, delta = np.broadcast_arrays(s, a, nu, u0, delta)
    b = a + nu
    R = np.hypot(2.0 * a, b * delta)
    m_plus = (2.0 * a + R) / (4.0 * b)
    with np.errstate(divide="ignore", invalid="ignore"):
        m_minus = delta**2 / (16.0 * m_plus)          # |m-|
        v0 = np.hypot(2.0 * u0, delta)                # w1^2 + w2^2 at s = 0
        m0 = np.where(u0 >= 0, (2.0 * u0 + v0) / 4.0, delta**2 / (4.0 * (v0 - 2.0 * u0)))
        E = np.exp(-R * s)
        F = -np.expm1(-R * s)                         # 1 - E without cancellation
        m = (m0 * (m_plus + m_minus * E) + m_plus * m_minus * F) / (m0 * F + m_plus * E
                                                                     + m_minus)
        out = m - delta**2 / (16.0 * m)
    return out[()] if out.ndim == 0 else out


class PaperParameters(NamedTuple):
    """A mode in rmtrisk units, converted from the paper's (see :func:`paper_to_rmtrisk`)."""

    a: np.ndarray    #: eigenvalue of X X^T (the paper's lambda, unchanged)
    nu: np.ndarray   #: N * var: the noise as product regularization on the summed loss
    wd: np.ndarray   #: N * gamma: the weight decay on the summed loss
    s: np.ndarray    #: learning_rate * epoch / N: gradient-flow time on the summed loss


def paper_to_rmtrisk(lam, var, gamma, N, learning_rate, epoch) -> PaperParameters:
    """Convert the published conventions to rmtrisk's.

    The paper (and its code, ``src/linear_ae_net/dynamics.py`` of
    github.com/arnupretorius/lindaedynamics_icml2018) stores samples as **rows**, takes
    ``lam`` as an eigenvalue of the un-normalized input correlation ``sum_n x_n x_n^T``
    (= ``X X^T`` here, with samples as columns), per-coordinate noise variance ``var``, the
    loss as a **mean** over the ``N`` samples plus ``(gamma/2)(||W1||^2 + ||W2||^2)``, and
    time in epochs of full-batch gradient descent with step ``learning_rate`` (its formula
    is the continuous-time solution at ``t = epoch``). Multiplying the loss by ``N`` gives
    rmtrisk's summed loss, so ``a = lam``, ``nu = N var`` (``var = eta2_train / d``),
    ``wd = N gamma`` and ``s = learning_rate * epoch / N``.
    """
    lam = _array("lam", lam)
    var = _array("var", var)
    gamma = _array("gamma", gamma)
    N = _array("N", N, strict=True)
    learning_rate = _array("learning_rate", learning_rate, strict=True)
    epoch = _array("epoch", epoch)
    return PaperParameters(lam, N * var, N * gamma, learning_rate * epoch / N)


def published_mode_value(lam, var, gamma, N, epoch, learning_rate, u0) -> np.ndarray:
    """The published mode value ``u(t)`` in the published conventions, without overflow.

    The published code evaluates, with ``tau = N / learning_rate``, ``g = N gamma``,
    ``xi = lam + N var`` and ``E = exp(2 (lam - g) t / tau)``,
    ``u(t) = (lam - g) E / (xi (E - 1) + (lam - g) / u0)``; that is ``nan`` once ``E``
    overflows (``inf / inf``). This function converts the parameters with
    :func:`paper_to_rmtrisk` and evaluates the same function of ``t`` by :func:`mode_value`.
    ``N`` need not be an integer here (the paper's formula is used with ``N = 1`` for the
    scalar model).
    """
    p = paper_to_rmtrisk(lam, var, gamma, N, learning_rate, epoch)
    return mode_value(p.s, p.a, p.nu, p.wd, u0)


def published_hyperbolic_value(lam, var, epoch, learning_rate, w1_0, w2_0) -> np.ndarray:
    """The scalar-model hyperbolic trajectory of the paper's Figure 1 (``N = 1``, no weight
    decay, loss ``(lam/2)(1 - w2 w1)**2 + (var/2)(w2 w1)**2``, ``epoch`` steps of size
    ``learning_rate``), evaluated by :func:`hyperbolic_mode_value` at ``s = learning_rate *
    epoch``, ``u0 = w1_0 w2_0`` and ``delta = w1_0**2 - w2_0**2``."""
    w1_0, w2_0 = _array("w1_0", w1_0, lo=None), _array("w2_0", w2_0, lo=None)
    p = paper_to_rmtrisk(lam, var, 0.0, 1.0, learning_rate, epoch)
    return hyperbolic_mode_value(p.s, p.a, p.nu, w1_0 * w2_0, w1_0**2 - w2_0**2)
