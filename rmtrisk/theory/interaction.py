"""Leading finite-size correction of the no-skip risk from the interaction of signal directions.

Setting: no skip connection, lambda = 0, ``c != 1``, any critical set ``I`` (docs/interaction.md).

**Exact reduction.** For ``c > 1`` write ``Y^T Y = A^T A + B C B^T`` with ``B = [A^T U, V]``,
``C = [[0, S], [S, S^2]]`` (``S = diag(sv)``) and ``Q = (A^T A)^{-1}``. With

    M = C^{-1} + B^T Q B = [[-I + Ka, S^{-1} + Kc], [S^{-1} + Kc^T, Kq]],
    Ka = U^T A Q A^T U,   Kc = U^T A Q V,   Kq = V^T Q V,

Woodbury gives exactly ``S V^T Y^+ U = I - (M^{-1})_{12} S^{-1}`` and
``S V^T (Y^T Y)^{-1} V S = -(M^{-1})_{11}``. The critical point is ``W = U_I U_I^T X Y^+``, so

    ||(I - W) u_i||^2 = sum_{j in I} [(M^{-1})_{12} S^{-1}]_{ji}^2 + [i not in I],
    ||W||_F^2 = -sum_{j in I} (M^{-1})_{11, jj}.

For ``c < 1`` the same algebra on the ``d`` side (``K = Y Y^T = A A^T + B' C B'^T``,
``B' = [A V, U]``, ``Q' = (A A^T)^{-1}``, ``Ka = V^T A^T Q' A V``, ``Kc = V^T A^T Q' U``,
``Kq = U^T Q' U``) gives ``S V^T Y^+ U = I - (M^{-1})_{21} S^{-1}`` and
``S V^T Y^+ Y V S = S^2 - (M^{-1})_{22}``; the critical point projects on the eigenvectors
``I`` of the latter ``r x r`` matrix, which are the signal directions only up to
``O(1/sqrt(d))`` rotations, and ``||(I - W) u_i||^2 = ||e_i - P G e_i||^2`` with ``P`` that
spectral projector and ``G = S V^T Y^+ U``.

**Fluctuations.** ``Ka, Kc, Kq`` concentrate at ``a I, 0, q I`` (``a = N/d``, ``q = (1/N) tr Q``
for ``c > 1``; ``a = d/N``, ``q = (1/d) tr Q'`` for ``c < 1``), with independent, centred,
asymptotically Gaussian fluctuations of covariance (``n_a = d, n_q = N`` for ``c > 1`` and
``n_a = N, n_q = d`` for ``c < 1``; ``q_2`` the second moment ``(1/n_q) tr Q^2``)

    Cov(Ka_ij, Ka_kl) = a (1 - a) / n_a  (d_ik d_jl + d_il d_jk),
    Cov(Kq_ij, Kq_kl) = (q_2 - q^2) / n_q (d_ik d_jl + d_il d_jk),
    E[Kc_ij Kc_kl]    = q / n_a  d_ik d_jl,

and no correlation between the blocks at this order. Writing ``M = M_0 + Delta``, every
covariance has the form ``Cov(Delta_ab, Delta_cd) = w_ab (d_ac d_bd + d_ad d_bc)`` on the
symmetric ``2r x 2r`` matrix ``Delta``, i.e. ``Delta`` is a sum of independent coordinates
``z_ab`` (``a <= b``) of variance ``w_ab`` (``2 w_aa`` on the diagonal). The correction is the
second-order term of ``E f(M_0 + Delta)``,

    E f ~ f(M_0) + 1/2 sum_{a <= b} Var(z_ab) d^2 f / d z_ab^2,

with ``f`` the exact bias (and variance) map above. The second derivatives are evaluated
deterministically by central differences of that exact rational map (steps of ``1e-3``
standard deviations; ``r (2r + 1)`` coordinates, two ``2r x 2r`` inversions each).
``f(M_0)`` reproduces the leading-order :func:`rmtrisk.theory.bottleneck.bottleneck_risk`;
the returned correction is the rest, ``O(1/d)`` for the bias.

The variance ``||W||_F^2`` is a function of ``M`` alone for ``c > 1``
(``-sum_{j in I} (M^{-1})_{11, jj}``). For ``c < 1`` it is
``tr(P E^T M^{-1} N M^{-1} E)`` with ``E = [0; I]`` and ``N = B'^T Q'^2 B'``, whose blocks
``Na, Nc, Nq`` fluctuate jointly with ``Ka, Kc, Kq`` (covariances in
:func:`fluctuation_weights`, with the third and fourth inverse moments of ``A A^T`` at their
Marchenko-Pastur limits). Its correction is relative ``O(1/d)``, i.e. ``O(1/d^2)`` in the risk
when the variance is ``O(1/d)``.
"""

from __future__ import annotations

import numpy as np

from ..problem import Problem
from .one_layer import resolvent_moments

__all__ = ["fluctuation_weights", "interaction_correction", "interaction_moments",
           "reduced_statistics"]

_REL_STEP = 1e-3


def interaction_moments(problem: Problem, finite_size: bool = False
                        ) -> tuple[float, float, float, int, int]:
    """``(a, q, q2, n_a, n_q)``: concentration values and dimensions of the quadratic forms.

    Parameters
    ----------
    problem : Problem
    finite_size : bool
        Exact Gaussian expectations (``a`` exact, ``q`` from ``E W^{-1}``, ``q2`` from the
        inverse-Wishart second moment) instead of their limits.

    Returns
    -------
    a, q, q2 : float
        ``E Ka_ii``, ``E Kq_ii`` and ``(1/n_q) E tr Q^2`` (``Q = (A^T A)^{-1}`` for ``c > 1``,
        ``(A A^T)^{-1}`` for ``c < 1``), in the units of the training noise ``eta2_train``.
    n_a, n_q : int
        Dimensions entering the fluctuation variances.
    """
    d, n, e2 = problem.d, problem.n, problem.eta2_train
    if d == n:
        raise ValueError("the interaction correction needs c != 1")
    a, q, q2 = resolvent_moments(d, n, finite_size)
    if not np.isfinite(q2):
        raise ValueError(f"finite-size moments need |d - N| > 3, got d={d}, N={n}")
    return a, q / e2, q2 / e2**2, max(d, n), min(d, n)


def _inverse_mp_moment(gamma: float, k: int) -> float:
    """``int x^{-k} dMP_gamma`` (``gamma < 1``, unit mean), ``k = 3, 4``."""
    if k == 3:
        return (1 + gamma) / (1 - gamma) ** 5
    return (1 + 3 * gamma + gamma**2) / (1 - gamma) ** 7


def fluctuation_weights(problem: Problem, finite_size: bool = False) -> np.ndarray:
    """Per-block fluctuation covariances of the quadratic forms, shape ``(3, 2, 2)``.

    Block ``0`` is ``Ka``, ``1`` is ``Kc``, ``2`` is ``Kq``. Entry ``[b]`` is the covariance
    of ``(K_ij, N_ij)`` in block ``b`` up to the index factor (``d_ik d_jl + d_il d_jk`` for the
    symmetric blocks, ``d_ik d_jl`` for ``Kc``), where ``N`` are the companion forms of ``Q^2``
    (``Na = V^T A^T Q'^2 A V``, ``Nc = V^T A^T Q'^2 U``, ``Nq = U^T Q'^2 U``), needed only for
    ``||W||_F^2`` when ``c < 1`` (zero for ``c > 1``). ``K`` variances: ``a (1 - a)/n_a``,
    ``q / n_a``, ``(q2 - q^2) / n_q`` (module docstring).
    """
    a, q, q2, n_a, n_q = interaction_moments(problem, finite_size)
    w = np.zeros((3, 2, 2))
    w[0, 0, 0] = a * (1.0 - a) / n_a
    w[1, 0, 0] = q / n_a
    w[2, 0, 0] = max(q2 - q * q, 0.0) / n_q
    if problem.d < problem.n:
        # third and fourth inverse moments at their Marchenko-Pastur limits (they enter an
        # O(1/d^2) term of the risk only)
        gamma, scale = problem.d / problem.n, problem.d / problem.n / problem.eta2_train
        q3 = scale**3 * _inverse_mp_moment(gamma, 3)
        q4 = scale**4 * _inverse_mp_moment(gamma, 4)
        w[0, 0, 1] = w[0, 1, 0] = a * q * (1.0 - a) / n_a
        w[0, 1, 1] = (a * q2 - a * a * q * q) / n_a
        w[1, 0, 1] = w[1, 1, 0] = q2 / n_a
        w[1, 1, 1] = q3 / n_a
        w[2, 0, 1] = w[2, 1, 0] = (q3 - q * q2) / n_q
        w[2, 1, 1] = q4 - q2 * q2
        w[2, 1, 1] /= n_q
    return w


def _leading_matrices(sv: np.ndarray, a: float, q: float, q2: float
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``M_0`` and ``N_0 = E B^T Q^2 B`` (the latter used for ``c < 1`` only)."""
    r = sv.size
    m0 = np.zeros((2 * r, 2 * r))
    m0[:r, :r] = (a - 1.0) * np.eye(r)
    m0[:r, r:] = m0[r:, :r] = np.diag(1.0 / sv)
    m0[r:, r:] = q * np.eye(r)
    n0 = np.zeros((2 * r, 2 * r))
    n0[:r, :r] = a * q * np.eye(r)
    n0[r:, r:] = q2 * np.eye(r)
    return m0, n0


def reduced_statistics(m: np.ndarray, n2: np.ndarray, sv: np.ndarray, kept: np.ndarray,
                       overparam: bool) -> tuple[np.ndarray, float]:
    """Exact per-direction bias ``||(I - W) u_i||^2`` and ``||W||_F^2`` from ``2r x 2r`` forms.

    Parameters
    ----------
    m : ndarray, shape (2r, 2r)
        ``M = C^{-1} + B^T Q B`` (see the module docstring).
    n2 : ndarray, shape (2r, 2r)
        ``B'^T Q'^2 B'`` (``c < 1`` only; ignored for ``c > 1``).
    sv : ndarray, shape (r,)
        Singular values, decreasing.
    kept : ndarray of int
        0-based ranks of the kept eigenvalues (of ``X X^T`` for ``c > 1``, of
        ``S V^T Y^+ Y V S`` for ``c < 1``).
    overparam : bool
        ``c > 1``.

    Returns
    -------
    bias : ndarray, shape (r,)
        ``||(I - W) u_i||^2``.
    frob2 : float
        ``||W||_F^2``.
    """
    r = sv.size
    minv = np.linalg.inv(m)
    if overparam:
        g = np.eye(r) - minv[:r, r:] / sv[None, :]
        proj = np.zeros((r, r))
        proj[kept, kept] = 1.0
        frob2 = -float(np.sum(np.diag(minv[:r, :r])[kept]))
    else:
        g = np.eye(r) - minv[r:, :r] / sv[None, :]
        core = np.diag(sv**2) - minv[r:, r:]
        _, vec = np.linalg.eigh(0.5 * (core + core.T))
        sel = vec[:, ::-1][:, kept]
        proj = sel @ sel.T
        # ||W||^2 = tr(P S V^T Y^+ Y^+T V S),  Y^+T V S = Q' B' M^{-1} [0; I]
        z = minv[:, r:]
        frob2 = float(np.sum(proj * (z.T @ n2 @ z)))
    resid = np.eye(r) - proj @ g
    return np.sum(resid**2, axis=0), frob2


def _directions(r: int, w: np.ndarray):
    """Independent unit-variance coordinates: ``(i, j, dK, dN)`` moving ``M`` and ``B^T Q^2 B``."""
    for i in range(2 * r):
        for j in range(i, 2 * r):
            block = 0 if j < r else (1 if i < r else 2)
            cov = (2.0 if i == j else 1.0) * w[block]
            lam, vec = np.linalg.eigh(cov)
            for val, col in zip(lam, vec.T, strict=True):
                if val > 1e-300:
                    yield i, j, np.sqrt(val) * col


def interaction_correction(problem: Problem, finite_size: bool = False) -> tuple[float, float]:
    """``(delta_bias, delta_variance)``: the O(1/d) interaction correction of the no-skip risk.

    To be added to :func:`rmtrisk.theory.bottleneck.bottleneck_risk` (same ``finite_size``).
    The expectation over the Gaussian fluctuations of the quadratic forms is taken to second
    order, deterministically (module docstring, docs/interaction.md).

    Parameters
    ----------
    problem : Problem
        No skip, ``reg = 0``, ``c != 1``.
    finite_size : bool
        Use exact finite-``d`` moments ``a = N/d``, ``q``, ``q2`` (inverse Wishart).

    Returns
    -------
    delta_bias, delta_variance : float
    """
    if problem.skip:
        raise ValueError("interaction_correction covers the model without skip connection")
    if problem.reg != 0:
        raise ValueError("interaction_correction covers lambda = 0 only")
    a, q, q2, _, _ = interaction_moments(problem, finite_size)
    sv = problem.sv_array
    r = sv.size
    ell = problem.test_energy_array
    kept = np.asarray(problem.kept, dtype=int) - 1
    overparam = problem.d > problem.n
    m0, n0 = _leading_matrices(sv, a, q, q2)
    w = fluctuation_weights(problem, finite_size)

    def stats(m: np.ndarray, n2: np.ndarray) -> np.ndarray:
        b, f2 = reduced_statistics(m, n2, sv, kept, overparam)
        return np.array([float(ell @ b), f2])

    base = stats(m0, n0)
    second = np.zeros(2)
    h = _REL_STEP
    for i, j, amp in _directions(r, w):
        dm = np.zeros((2 * r, 2 * r))
        dn = np.zeros((2 * r, 2 * r))
        dm[i, j] = dm[j, i] = h * amp[0]
        dn[i, j] = dn[j, i] = h * amp[1]
        second += 0.5 * (stats(m0 + dm, n0 + dn) + stats(m0 - dm, n0 - dn) - 2.0 * base) / h**2
    return float(second[0]), float(problem.eta2_test * second[1] / problem.d)
