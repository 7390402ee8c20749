"""Leading finite-size correction of the no-skip risk from the interaction of signal directions.

Setting: no skip connection, lambda = 0, ``c != 1``, any critical set ``I`` (docs/interaction.md).
For ``lambda > 0`` (any ``c``, including ``c = 1``) see :func:`ridge_interaction_risk`: the same
construction on the ``N`` side with ``Q = (A^T A + lambda)^{-1}``, plus the ``O(1/N)`` mean shift
of the global traces (docs/interaction.md section 6).

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
standard deviations; ``r (2r + 1)`` coordinates, each moving only the one or two directions
of its entry: the differences are taken on those ``2 x 2`` and ``4 x 4`` subsystems, batched).
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

from ...problem import Problem
from ..one_layer import direction_factors, resolvent_moments
from .sampled import sampled_expectation

__all__ = ["fluctuation_weights", "interaction_correction", "interaction_moments",
           "reduced_statistics", "ridge_fluctuation_weights", "ridge_interaction_risk",
           "ridge_reduced_statistics", "ridge_spectral_moments", "sampled_risk"]

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


def _leading_matrices(sv: np.ndarray, a: float, q: float, na: float, nq: float
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``M_0 = [[(a - 1) I, S^{-1}], [S^{-1}, q I]]`` and ``N_0 = diag(na I, nq I)``.

    ``N_0 = E B^T Q^2 B``: ``na = a q``, ``nq = q2`` at lambda = 0 (used for ``c < 1`` only);
    the lambda > 0 blocks come from :func:`_ridge_means`.
    """
    r = sv.size
    m0 = np.zeros((2 * r, 2 * r))
    m0[:r, :r] = (a - 1.0) * np.eye(r)
    m0[:r, r:] = m0[r:, :r] = np.diag(1.0 / sv)
    m0[r:, r:] = q * np.eye(r)
    n0 = np.zeros((2 * r, 2 * r))
    n0[:r, :r] = na * np.eye(r)
    n0[r:, r:] = nq * np.eye(r)
    return m0, n0


def reduced_statistics(m: np.ndarray, n2: np.ndarray, sv: np.ndarray, kept: np.ndarray,
                       overparam: bool, with_projector: bool = False):
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
    kept_weights : ndarray, shape (r,)
        With ``with_projector``: the diagonal ``u_i^T P u_i`` of the kept projector.

    ``m`` and ``n2`` may be stacks ``(..., 2r, 2r)``, and ``sv`` a stack ``(..., r)`` that
    broadcasts with them; the results then carry the stack axes.
    """
    r = sv.shape[-1]
    cols = np.asarray(sv)[..., None, :]
    minv = np.linalg.inv(m)
    if overparam:
        g = np.eye(r) - minv[..., :r, r:] / cols
        proj = np.zeros(m.shape[:-2] + (r, r))
        proj[..., kept, kept] = 1.0
        diag = np.diagonal(minv[..., :r, :r], axis1=-2, axis2=-1)
        frob2 = -np.sum(diag[..., kept], axis=-1)
    else:
        g = np.eye(r) - minv[..., r:, :r] / cols
        core = cols**2 * np.eye(r) - minv[..., r:, r:]
        _, vec = np.linalg.eigh(0.5 * (core + _t(core)))
        sel = vec[..., ::-1][..., kept]
        proj = sel @ _t(sel)
        # ||W||^2 = tr(P S V^T Y^+ Y^+T V S),  Y^+T V S = Q' B' M^{-1} [0; I]
        z = minv[..., :, r:]
        frob2 = np.sum(proj * (_t(z) @ n2 @ z), axis=(-2, -1))
    resid = np.eye(r) - proj @ g
    bias = np.sum(resid**2, axis=-2)
    if m.ndim == 2:
        frob2 = float(frob2)
    if with_projector:
        return bias, frob2, np.diagonal(proj, axis1=-2, axis2=-1).copy()
    return bias, frob2


def _t(a: np.ndarray) -> np.ndarray:
    """Transpose of the last two axes (stacks of matrices)."""
    return np.swapaxes(a, -1, -2)


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


def _second_order(stats, m0: np.ndarray, n0: np.ndarray, w: np.ndarray, sv: np.ndarray,
                  ell: np.ndarray, kept_dirs: np.ndarray, rank_key: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(f(M0, N0), 1/2 sum Var(z) d^2 f/dz^2)`` by central differences along
    :func:`_directions` (steps of ``_REL_STEP`` standard deviations).

    ``stats(m, n2, sv, ell, kept)`` is the batched exact map, ``(..., 2)``: the ``ell``-weighted
    bias and ``||W||_F^2``, with ``kept`` the 0-based eigen-ranks of the kept directions. The
    means are block diagonal per direction, so a coordinate at entry ``(a, b)`` moves only the
    directions of ``a`` and ``b``: the differences are taken on 1- and 2-direction subsystems
    (exact), all subsystems of one size and kept pattern in one batched call. ``kept_dirs`` are
    the kept directions, ``rank_key`` orders the directions' eigenvalues at the means
    (decreasing) so that each subsystem keeps the same directions.
    """
    r = sv.size
    base = np.asarray(stats(m0, n0, sv, ell, _local_ranks(np.arange(r), kept_dirs, rank_key)))
    second = np.zeros_like(base)
    subsystems = [[i] for i in range(r)] + [[i, j] for i in range(r) for j in range(i + 1, r)]
    groups: dict[tuple, list] = {}
    for sub in subsystems:
        key = (len(sub), tuple(_local_ranks(np.array(sub), kept_dirs, rank_key)))
        groups.setdefault(key, []).append(sub)
    for (p, kept_sub), subs in groups.items():
        moves = [(a, b, amp) for a, b, amp in _directions(p, w) if p == 1 or a % p != b % p]
        idx = np.array([[*sub, *(r + np.array(sub))] for sub in subs])
        m_sub = m0[idx[:, :, None], idx[:, None, :]]
        n_sub = n0[idx[:, :, None], idx[:, None, :]]
        sv_sub, ell_sub = sv[np.array(subs)], ell[np.array(subs)]
        dm = np.zeros((len(moves), 2 * p, 2 * p))
        dn = np.zeros_like(dm)
        for t, (a, b, amp) in enumerate(moves):
            dm[t, a, b] = dm[t, b, a] = _REL_STEP * amp[0]
            dn[t, a, b] = dn[t, b, a] = _REL_STEP * amp[1]
        kept_arr = np.array(kept_sub, dtype=int)
        f0 = np.asarray(stats(m_sub, n_sub, sv_sub, ell_sub, kept_arr))
        svb, ellb = sv_sub[:, None, :], ell_sub[:, None, :]
        fp = np.asarray(stats(m_sub[:, None] + dm, n_sub[:, None] + dn, svb, ellb, kept_arr))
        fm = np.asarray(stats(m_sub[:, None] - dm, n_sub[:, None] - dn, svb, ellb, kept_arr))
        second += 0.5 * np.sum(fp + fm - 2.0 * f0[:, None], axis=(0, 1)) / _REL_STEP**2
    return base, second


def _local_ranks(sub: np.ndarray, kept, rank_key: np.ndarray) -> list[int]:
    """0-based eigen-ranks, within the directions ``sub``, of those that are kept."""
    order = sub[np.argsort(-rank_key[sub], kind="stable")]
    kept = set(int(i) for i in kept)
    return [pos for pos, direction in enumerate(order) if int(direction) in kept]


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
    ell = problem.test_energy_array
    kept = np.asarray(problem.kept, dtype=int) - 1
    overparam = problem.d > problem.n
    m0, n0 = _leading_matrices(sv, a, q, a * q, q2)
    w = fluctuation_weights(problem, finite_size)

    def stats(m, n2, sv, ell, kept):
        b, f2 = reduced_statistics(m, n2, sv, kept, overparam)
        return np.stack([np.sum(b * ell, axis=-1), np.asarray(f2)], axis=-1)

    # eigenvalues at the means: X X^T (c > 1); S V^T Y^+ Y V S = S^2 - (M^{-1})_22 (c < 1)
    key = sv if overparam else sv**2 - np.diag(np.linalg.inv(m0))[sv.size:]
    scale = problem.eta2_test / problem.d
    base, second = _second_order(stats, m0, n0, w, sv, ell, _kept_directions(kept, key), key)
    return float(second[0]), float(scale * second[1])


def _kept_directions(kept: np.ndarray, rank_key: np.ndarray) -> np.ndarray:
    """The directions whose eigenvalue ranks (decreasing ``rank_key``) are ``kept``."""
    return np.argsort(-rank_key, kind="stable")[kept]


def sampled_risk(problem: Problem, finite_size: bool = False
                 ) -> tuple[float, float, float]:
    """``(bias, variance, error)`` of the no-skip critical point at ``lambda = 0``, ``c < 1``,
    as the expectation of the exact map over the fluctuations
    (:func:`.sampled.sampled_expectation`).

    For near-ties at the bottleneck cutoff, where which directions are kept is decided by the
    fluctuations. The bias is the sampled mean of the exact per-direction bias; the variance
    keeps its limiting factors ``v_i`` (as without near-tie, docs/interaction.md) mixed by the
    kept weights: ``(eta2_test / d) sum_i E[u_i^T P u_i] v_i``. ``error`` is the sampling
    standard error of the bias.
    """
    if problem.skip or problem.reg != 0 or problem.d >= problem.n:
        raise ValueError("sampled_risk covers the model without skip, lambda = 0, c < 1")
    a, q, q2, _, _ = interaction_moments(problem, finite_size)
    sv = problem.sv_array
    ell = problem.test_energy_array
    kept = np.asarray(problem.kept, dtype=int) - 1
    m0, n0 = _leading_matrices(sv, a, q, a * q, q2)

    def stats(m: np.ndarray, n2: np.ndarray) -> np.ndarray:
        b, _, p = reduced_statistics(m, n2, sv, kept, False, with_projector=True)
        return np.concatenate(((b @ ell)[:, None], p), axis=1)

    mean, err = sampled_expectation(stats, m0, n0, fluctuation_weights(problem, finite_size))
    _, v = direction_factors(problem.snr, problem.d, problem.n, finite_size=False)
    return (float(mean[0]), float(problem.eta2_test * np.dot(mean[1:], v) / problem.d),
            float(err[0]))


# ---------------------------------------------------------------------------------------------
# lambda > 0 (regime "ridge"), both sides of c = 1: docs/interaction.md section 6
# ---------------------------------------------------------------------------------------------

_QUAD_NODES = 40000


def _mp_nodes(y: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Midpoint nodes ``theta`` of ``x = 1 + y + 2 sqrt(y) cos(theta)`` on ``(0, pi)``.

    Returns ``(x, w_law, w_bs)`` such that ``int f dMP_y ~ sum w_law f(x)`` (unit-mean law of
    ratio ``y <= 1``, no atom: ``dMP = (2/pi) sin^2(theta)/x dtheta``) and
    ``(1/(2 pi)) int_a^b f(x) / sqrt(4y - (x - 1 - y)^2) dx ~ sum w_bs f(x)``.
    """
    theta = (np.arange(_QUAD_NODES) + 0.5) * np.pi / _QUAD_NODES
    x = 1.0 + y + 2.0 * np.sqrt(y) * np.cos(theta)
    step = np.pi / _QUAD_NODES
    return x, (2.0 / np.pi) * np.sin(theta) ** 2 / x * step, np.full(x.size, step / (2 * np.pi))


def ridge_spectral_moments(d: int, n: int, lam: float, pq: list[tuple[int, int]],
                           finite_size: bool = False) -> np.ndarray:
    """``E (1/N) tr x^p (x + lam)^{-q}`` over the spectrum of ``A^T A`` (``A_ij ~ N(0, 1/d)``).

    The limit is the Marchenko-Pastur integral (the ``N``-side law has an atom ``1 - d/N`` at
    0 when ``N > d``); with ``finite_size`` the ``O(1/N)`` mean correction of real Gaussian
    linear spectral statistics (Bai & Silverstein 2004, Thm 1.1 with ``E x^4 = 3``),
    ``(f(a) + f(b))/4 - (1/(2 pi)) int_a^b f(x) / sqrt(4y - (x - 1 - y)^2) dx``, computed on
    the smaller side, is added (divided by ``N``). Needs ``lam > 0`` or no mass near 0.
    """
    if n <= d:
        y, scale, frac = n / d, 1.0, 1.0
    else:
        y, scale, frac = d / n, n / d, d / n
    x, w_law, w_bs = _mp_nodes(y)
    sx = scale * x
    edges = scale * np.array([(1 - np.sqrt(y)) ** 2, (1 + np.sqrt(y)) ** 2])
    out = np.empty(len(pq))
    for idx, (p, q) in enumerate(pq):
        def f(u: np.ndarray, p: int = p, q: int = q) -> np.ndarray:
            return u**p / (u + lam) ** q
        val = frac * float(w_law @ f(sx))
        if frac < 1.0 and p == 0:
            val += (1.0 - frac) * lam ** (-q)
        if finite_size:
            bs = 0.25 * float(np.sum(f(edges))) - float(w_bs @ f(sx))
            val += bs / n
        out[idx] = val
    return out


def ridge_fluctuation_weights(problem: Problem) -> np.ndarray:
    """Covariances of the quadratic forms at ``lambda > 0`` (``N`` side, noise units).

    Shape ``(3, 2, 2)`` as :func:`fluctuation_weights`: block ``0`` is ``(Ka, Na)``, ``1`` is
    ``(Kc, Nc)``, ``2`` is ``(Kq, Nq)`` with ``Ka = U^T A Q A^T U``, ``Kc = U^T A Q V``,
    ``Kq = V^T Q V``, ``N. `` the same with ``Q^2``, ``Q = (A^T A + lam)^{-1}``. With
    ``I(p, q) = int x^p/(x + lam)^q dmu`` (``mu`` the law of ``A^T A``, atom at 0 when
    ``N > d``), ``gamma = N/d``, ``a = gamma I(1,1)``, ``na = gamma I(1,2)``, ``m = I(0,1)``,
    ``m2 = I(0,2)``:
    ``(Ka, Ka): (gamma I(2,2) - a^2)/d``, ``(Ka, Na): (gamma I(2,3) - a na)/d``,
    ``(Na, Na): (gamma I(2,4) - na^2)/d``; ``(Kc, Kc): I(1,2)/d``, ``(Kc, Nc): I(1,3)/d``,
    ``(Nc, Nc): I(1,4)/d``; ``(Kq, Kq): (m2 - m^2)/N``, ``(Kq, Nq): (I(0,3) - m m2)/N``,
    ``(Nq, Nq): (I(0,4) - m2^2)/N``, each times the index factor of its block
    (``d_ik d_jl + d_il d_jk`` for ``a, q``; ``d_ik d_jl`` for ``c``). Limiting moments.
    """
    d, n = problem.d, problem.n
    lam = problem.reg / problem.eta2_train
    gam = n / d
    i11, i12, i22, i23, i24, i13, i14, i01, i02, i03, i04 = ridge_spectral_moments(
        d, n, lam, [(1, 1), (1, 2), (2, 2), (2, 3), (2, 4), (1, 3), (1, 4),
                    (0, 1), (0, 2), (0, 3), (0, 4)])
    a, na, m, m2 = gam * i11, gam * i12, i01, i02
    w = np.zeros((3, 2, 2))
    w[0] = np.array([[gam * i22 - a * a, gam * i23 - a * na],
                     [gam * i23 - a * na, gam * i24 - na * na]]) / d
    w[1] = np.array([[i12, i13], [i13, i14]]) / d
    w[2] = np.array([[i02 - m * m, i03 - m * m2], [i03 - m * m2, i04 - m2 * m2]]) / n
    return w


def _ridge_means(problem: Problem, finite_size: bool) -> tuple[float, float, float, float]:
    """``(a, m, na, nq)``: ``E Ka_ii, E Kq_ii, E Na_ii, E Nq_ii`` (noise units)."""
    d, n = problem.d, problem.n
    lam = problem.reg / problem.eta2_train
    i11, i01, i12, i02 = ridge_spectral_moments(d, n, lam, [(1, 1), (0, 1), (1, 2), (0, 2)],
                                                finite_size)
    return (n / d) * i11, i01, (n / d) * i12, i02


def ridge_reduced_statistics(m: np.ndarray, n2: np.ndarray, sv: np.ndarray, lam: float,
                             kept: np.ndarray) -> tuple[np.ndarray, float]:
    """Exact ``||(I - W) u_i||^2`` and ``||W||_F^2`` at ``lambda > 0`` from ``2r x 2r`` forms.

    ``M = C^{-1} + B^T Q B`` and ``N = B^T Q^2 B`` with ``Q = (A^T A + lam)^{-1}``,
    ``B = [A^T U, V]`` (any ``c``). Exactly: ``S V^T Q~ Y^T U = I - (M^{-1})_{12} S^{-1}``,
    ``S V^T Q~ V S = -(M^{-1})_{11}``, ``S V^T Q~^2 V S = (M^{-1} N M^{-1})_{11}``
    (``Q~ = (Y^T Y + lam)^{-1}``). The critical point keeps the eigenvectors ``kept`` (0-based
    ranks, decreasing) of ``S V^T H V S = S^2 + lam (M^{-1})_{11}`` (``H = I - lam Q~``), with
    projector ``P``; then ``||(I - W) u_i||^2 = ||e_i - P G e_i||^2``, ``G = I - (M^{-1})_{12}
    S^{-1}``, and ``||W||_F^2 = tr P [-(M^{-1})_{11} - lam (M^{-1} N M^{-1})_{11}]``.
    Units: noise ``eta2_train = 1`` (``sv`` and ``lam`` rescaled).
    """
    r = sv.shape[-1]
    cols = np.asarray(sv)[..., None, :]
    minv = np.linalg.inv(m)
    g = np.eye(r) - minv[..., :r, r:] / cols
    m11 = minv[..., :r, :r]
    core = cols**2 * np.eye(r) + lam * m11
    _, vec = np.linalg.eigh(0.5 * (core + _t(core)))
    sel = vec[..., ::-1][..., kept]
    proj = sel @ _t(sel)
    z = minv[..., :, :r]
    frob2 = np.sum(proj * (-m11 - lam * (_t(z) @ n2 @ z)), axis=(-2, -1))
    resid = np.eye(r) - proj @ g
    return np.sum(resid**2, axis=-2), (float(frob2) if m.ndim == 2 else frob2)


def ridge_interaction_risk(problem: Problem, finite_size: bool = True, sampled: bool = False,
                           with_error: bool = False) -> tuple[float, ...]:
    """Finite-size no-skip risk at ``lambda > 0``: ``(bias, variance, delta_bias, delta_var)``.

    ``bias, variance`` = exact map at the exact means ``f(E M, E N)`` (global traces with their
    ``O(1/N)`` real-Gaussian mean correction when ``finite_size``) plus the second-order term
    ``delta`` of the Gaussian fluctuations of the quadratic forms
    (:func:`ridge_fluctuation_weights`), evaluated by central differences as in
    :func:`interaction_correction`. With
    ``finite_size=False`` the means are the Marchenko-Pastur limits and ``f(M_0)`` is the
    leading-order :func:`rmtrisk.theory.ridge.ridge_risk`. With ``with_error`` a fifth
    element is the sampling standard error of the bias (0 unless ``sampled``).
    """
    if problem.skip:
        raise ValueError("ridge_interaction_risk covers the model without skip connection")
    if problem.reg <= 0:
        raise ValueError("ridge_interaction_risk needs lambda = reg > 0")
    e2 = problem.eta2_train
    sv = problem.sv_array / np.sqrt(e2)
    lam = problem.reg / e2
    ell = problem.test_energy_array
    kept = np.asarray(problem.kept, dtype=int) - 1
    m0, n0 = _leading_matrices(sv, *_ridge_means(problem, finite_size))
    w = ridge_fluctuation_weights(problem)

    def stats(m, n2, sv=sv, ell=ell, kept=kept):
        b, f2 = ridge_reduced_statistics(m, n2, sv, lam, kept)
        return np.stack([np.sum(b * ell, axis=-1), np.asarray(f2)], axis=-1)

    error = 0.0
    if sampled:  # uniform in the gaps of a near-tie (sampled_expectation)
        base = stats(m0, n0)
        mean, err = sampled_expectation(stats, m0, n0, w)
        second, error = mean - base, float(err[0])
    else:
        # eigenvalues at the means: S V^T H V S = S^2 + lam (M^{-1})_11
        key = sv**2 + lam * np.diag(np.linalg.inv(m0))[:sv.size]
        base, second = _second_order(stats, m0, n0, w, sv, ell, _kept_directions(kept, key),
                                     key)
    scale = problem.eta2_test / problem.d
    out = (float(base[0] + second[0]), float(scale * (base[1] + second[1])),
           float(second[0]), float(scale * second[1]))
    return (*out, error) if with_error else out
