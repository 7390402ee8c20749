"""Interaction of signal directions in the skip-connection risk, c > 1 (c = 1 at lambda > 0).

Setting: skip connection, ``c = d/N > 1``, global minimizer (docs/skip_interaction.md). Units
of the training noise (``eta2_train = 1``: ``sv`` and ``lambda`` rescaled).

**Exact reduction at lambda = 0.** For ``c > 1``, ``T H T^T = A A^T``: the bottleneck keeps the
top-``k`` left singular vectors ``E_k`` of the noise ``A = E s F^T`` and ``W = -E_k E_k^T F``
with ``F = A Y^T (Y Y^T + lambda)^{-1} = A (Y^T Y + lambda)^{-1} Y^T``. With
``Q = (A^T A + lambda)^{-1}``, ``B = [A^T U, V]``, ``C = [[0, S], [S, S^2]]`` and
``M = C^{-1} + B^T Q B``, Woodbury gives ``(Y^T Y + lambda)^{-1} Y^T U = Q B M^{-1} [0; S^{-1}]``
and, with the ``k x 2r`` matrix ``L = E_k^T A Q B``,

    W U = -E_k L Z,   Z = M^{-1} [0; S^{-1}],   sum_i l_i ||W u_i||^2 = sum_i l_i (Z^T J Z)_ii,
    ||W||_F^2 = T1 - lambda T2,        tr W = -T1 - tr(M^{-1}[:, :r] H),
    T1 = sum_{j <= k} psi(x_j) - tr(M^{-1} J),
    T2 = sum_{j <= k} x_j w(x_j)^2 - 2 tr(M^{-1} X) + tr(M^{-1} N M^{-1} J),

``x_j = s_j^2``, ``w = 1/(x + lambda)``, ``psi = x w``, ``J = L^T L``, ``X = (E_k^T A Q^2 B)^T L``,
``N = B^T Q^2 B`` and ``H = U^T E_k L``. Every block is a quadratic form ``a^T f(x) b`` of
``alpha = E^T U`` (``N x r``) and ``beta = F^T V`` (``N x r``) with a weight ``f`` over all
``N`` noise directions (``M, N``) or over the kept ``k`` (``J, X, H``): :data:`FORM_FAMILIES`.
At ``lambda = 0`` this is the exact risk of the minimizer (checked on draws to 1e-12,
``tests/test_skip_interaction.py``). For ``lambda > 0`` the minimizer keeps the top-``k``
eigenvectors of ``phi(A A^T) + lambda P K P^T`` instead of ``E_k``; the rotation of the kept
subspace by the signal is in the leading order (:mod:`rmtrisk.theory.skip_ridge`), and the
correction here keeps the noise projector ``E_k E_k^T`` in the fluctuation term only (an
approximation, exact as ``lambda -> 0``, checked against Monte Carlo: docs/skip_interaction.md).

**Fluctuations.** At the means (``alpha^T f alpha -> (1/d) sum f``,
``beta^T f beta -> (1/N) sum f``, mixed forms ``-> 0``) the map reproduces the leading order.
The forms fluctuate by ``O(1/sqrt(d))``, jointly Gaussian within each block type, entry by entry
(index factor ``d_ik d_jl + d_il d_jk`` for the symmetric ``alpha alpha`` and ``beta beta``
forms, ``d_ik d_jl`` for ``alpha beta``), with covariances between the weights ``f, g``

    alpha alpha: (1/d) [<f g>_d - <f>_d <g>_d],   beta beta: (1/N) [<f g> - <f> <g>],
    alpha beta:  (1/d) <f g>,

``<.>`` the average over the ``N`` noise directions, ``<.>_d = (N/d) <.>`` (Haar ``U`` on
``R^d``: the ``d - N`` directions outside the range of ``A`` carry weight 0), sums over the kept
directions for kept weights; the block types are uncorrelated at this order. The correction is
the second-order term ``1/2 sum Var(z) d^2 f/dz^2`` along the independent coordinates (the
eigenvectors of each ``5 x 5`` or ``4 x 4`` family covariance), by central differences of the
exact map. The means sit on a block-diagonal matrix (one ``2 x 2`` block per direction), so a
coordinate at entry ``(i, j)`` moves only the ``{i, j}`` subsystem: the differences are taken on
``2 x 2`` and ``4 x 4`` systems, exactly. Limiting Marchenko–Pastur moments throughout (the
correction is ``O(1/d)``; its finite-``d`` refinements are ``O(1/d^2)``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...engine import threshold
from ...problem import Problem
from .quadrature import gauss_legendre

__all__ = ["FORM_FAMILIES", "MAX_EXPANSION", "FormFamily", "SkipInteraction", "kept_angle",
           "skip_interaction_correction", "skip_reduced_statistics", "with_skip_interaction"]

#: central-difference step, in standard deviations of the coordinate
_REL_STEP = 1e-2
#: Gauss–Legendre nodes in the angle variable of the Marchenko–Pastur law
_NODES = 400
#: Largest relative fluctuation of the resolvent forms at which the second-order expansion is
#: used; beyond it (c -> 1 with small lambda, or d - N of a few) the evaluators return the
#: limit with status ILL_CONDITIONED. At 0.6 the correction still matched Monte Carlo within
#: 4.3 SE (c = 1, lambda = 1e-3, d = 200), at 6.3 it overshot by 33 SE (lambda = 1e-7).
MAX_EXPANSION = 1.0


class SkipInteraction(NamedTuple):
    """The interaction correction and the size of its expansion parameter."""

    delta_bias: float        #: to be added to the leading-order bias
    delta_variance: float    #: to be added to the leading-order variance
    expansion: float         #: relative fluctuation of the resolvent forms ``beta^T Q beta``


class FormFamily(NamedTuple):
    """One quadratic-form family: which block, which matrix, kept or all, and its weight."""

    block: str      #: "aa" (``alpha^T f alpha``), "bb" (``beta^T f beta``), "ab" (mixed)
    matrix: str     #: "M" (``B^T Q B``), "N" (``B^T Q^2 B``), "J", "X" or "H"
    kept: bool      #: sum over the kept ``k`` noise directions (else all ``N``)
    power: tuple[float, int]  #: weight ``x^p / (x + lambda)^q`` as ``(p, q)``


#: The forms of the exact map (module docstring), weights as ``x^p (x + lambda)^{-q}``.
FORM_FAMILIES: tuple[FormFamily, ...] = (
    FormFamily("aa", "M", False, (1, 1)), FormFamily("aa", "N", False, (1, 2)),
    FormFamily("aa", "J", True, (2, 2)), FormFamily("aa", "X", True, (2, 3)),
    FormFamily("aa", "H", True, (1, 1)),
    FormFamily("bb", "M", False, (0, 1)), FormFamily("bb", "N", False, (0, 2)),
    FormFamily("bb", "J", True, (1, 2)), FormFamily("bb", "X", True, (1, 3)),
    FormFamily("ab", "M", False, (0.5, 1)), FormFamily("ab", "N", False, (0.5, 2)),
    FormFamily("ab", "J", True, (1.5, 2)), FormFamily("ab", "X", True, (1.5, 3)),
    FormFamily("ab", "H", True, (0.5, 1)),
)
_MATRICES = ("M", "N", "J", "X", "H")


def skip_reduced_statistics(m: np.ndarray, n2: np.ndarray, j: np.ndarray, x: np.ndarray,
                            h: np.ndarray, sv: np.ndarray, ell: np.ndarray, lam: float,
                            bulk: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Exact ``(sum_i l_i ||W u_i||^2, tr W, ||W||_F^2)`` from the reduced forms.

    Parameters
    ----------
    m, n2, j, x : ndarray, shape (..., 2r, 2r)
        ``B^T Q B`` (without ``C^{-1}``), ``B^T Q^2 B``, ``J`` and ``X`` (module docstring).
    h : ndarray, shape (..., r, 2r)
        ``H = U^T E_k L``.
    sv, ell : ndarray, shape (..., r)
        Singular values (noise units) and test energies (broadcast with the matrices' stack).
    lam : float
        ``lambda`` in noise units.
    bulk : (float, float)
        ``sum_{j <= k} psi(x_j)`` and ``sum_{j <= k} x_j / (x_j + lambda)^2`` (0 for
        differences).

    Returns
    -------
    ndarray, shape (..., 3)
    """
    r = sv.shape[-1]
    inv_sv = 1.0 / np.asarray(sv, dtype=float)
    c_inv = np.zeros(inv_sv.shape[:-1] + (2 * r, 2 * r))
    c_inv[..., :r, :r] = -np.eye(r)
    c_inv[..., :r, r:] = c_inv[..., r:, :r] = inv_sv[..., None, :] * np.eye(r)
    minv = np.linalg.inv(m + c_inv)
    z = minv[..., :, r:] * inv_sv[..., None, :]
    signal = np.sum(np.einsum("...ai,...ab,...bi->...i", z, j, z) * ell, axis=-1)
    t1 = bulk[0] - _trace(minv, j)
    t2 = bulk[1] - 2.0 * _trace(minv, x) + _trace(minv @ n2 @ minv, j)
    trace = -t1 - _trace(minv[..., :, :r], h)
    return np.stack([signal, trace, t1 - lam * t2], axis=-1)


def _trace(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``tr(a b)`` over the last two axes."""
    return np.einsum("...ab,...ba->...", a, b)


def _law_averages(y: float, angle: float, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``x`` and weights of ``int_{x > x(angle)} f dmu`` for the Marchenko–Pastur law
    ``mu`` of ``A^T A`` (ratio ``y = N/d < 1``, unit scale), Gauss–Legendre in the angle of
    ``x = 1 + y + 2 sqrt(y) cos(t)``, ``t in (0, angle)`` (``dmu = (2/pi) sin^2 t / x dt``)."""
    g, w = gauss_legendre(_NODES)
    t = 0.5 * angle * (g + 1.0)
    x = 1.0 + y + 2.0 * np.sqrt(y) * np.cos(t)
    return x, 0.5 * angle * w * (2.0 / np.pi) * np.sin(t) ** 2 / x


def kept_angle(y: float, mass: float) -> float:
    """The angle ``t`` of ``x = 1 + y + 2 sqrt(y) cos(t)`` at the threshold that keeps the
    fraction ``mass`` of the law of ``A^T A`` (ratio ``y``): ``pi`` for ``mass >= 1``."""
    if mass >= 1.0:
        return float(np.pi)
    theta = float(threshold(y, mass).threshold)
    return float(np.arccos(np.clip((theta - 1.0 - y) / (2.0 * np.sqrt(y)), -1.0, 1.0)))


def _weight(fam: FormFamily, x: np.ndarray, lam: float) -> np.ndarray:
    p, q = fam.power
    return x**p / (x + lam) ** q


def _family_statistics(y: float, angle: float, lam: float, d: int, n: int
                       ) -> tuple[dict, dict]:
    """Means of the forms (per block and matrix) and the covariance of each block's family
    (``y = N/d <= 1``: the law of ``A^T A`` has no atom)."""
    full = _law_averages(y, np.pi, lam)
    kept = _law_averages(y, angle, lam)
    means, covs = {}, {}
    for block in ("aa", "bb", "ab"):
        fams = [f for f in FORM_FAMILIES if f.block == block]
        mean = np.array([float(nw @ _weight(f, nx, lam))
                         for f in fams for nx, nw in [kept if f.kept else full]])
        cov = np.empty((len(fams), len(fams)))
        for a, fa in enumerate(fams):
            for b, fb in enumerate(fams):
                nx, nw = kept if (fa.kept or fb.kept) else full
                both = float(nw @ (_weight(fa, nx, lam) * _weight(fb, nx, lam)))
                if block == "aa":    # Haar U on R^d: the d - N directions off range(A) weigh 0
                    cov[a, b] = (y * both - y * mean[a] * y * mean[b]) / d
                elif block == "bb":  # Haar V on R^N
                    cov[a, b] = (both - mean[a] * mean[b]) / n
                else:
                    cov[a, b] = both / d
        for f, value in zip(fams, mean, strict=True):
            means[(block, f.matrix)] = {"aa": y * value, "bb": value, "ab": 0.0}[block]
        covs[block] = (fams, cov)
    return means, covs


def skip_interaction_correction(problem: Problem) -> SkipInteraction:
    """Interaction of signal directions, skip, ``c > 1`` (``c = 1`` with ``reg > 0``).

    The second-order expectation of the exact reduced map over the Gaussian fluctuations of
    the quadratic forms, minus the map at the means (module docstring), with limiting
    Marchenko–Pastur moments. Exact derivation at ``reg = 0``; at ``reg > 0`` with the noise
    kept projector in the fluctuation term (an approximation checked against Monte Carlo).

    Parameters
    ----------
    problem : Problem
        ``skip=True``, ``c > 1`` (or ``c = 1`` with ``reg > 0``), global minimizer.

    Returns
    -------
    SkipInteraction
        ``(delta_bias, delta_variance, expansion)``: the corrections, and the relative standard
        deviation ``sqrt(2 Var)/mean`` of the diagonal forms ``beta^T (x + lambda)^{-1} beta``,
        the expansion parameter (0.06-0.1 in the random audit; above :data:`MAX_EXPANSION`
        the second-order term is not trusted).
    """
    if not problem.skip or problem.critical_set is not None:
        raise ValueError("skip_interaction_correction covers the skip connection, global "
                         "minimizer")
    if problem.d < problem.n or (problem.d == problem.n and problem.reg == 0):
        raise ValueError("skip_interaction_correction needs c > 1 (or c = 1 with reg > 0)")
    d, n, e2 = problem.d, problem.n, problem.eta2_train
    sv = problem.sv_array / np.sqrt(e2)
    ell = problem.test_energy_array
    lam = problem.reg / e2
    y = n / d
    means, covs = _family_statistics(y, kept_angle(y, min(problem.k, n) / n), lam, d, n)
    r = sv.size
    upper = np.triu_indices(r, 1)
    second = _second_order(1, means, covs, sv[:, None], ell[:, None], lam)
    if r > 1:
        pairs = np.stack(upper, axis=-1)
        second = second + _second_order(2, means, covs, sv[pairs], ell[pairs], lam)
    scale = problem.eta2_test / d
    fams, cov = covs["bb"]
    at = next(i for i, f in enumerate(fams) if f.matrix == "M")
    expansion = float(np.sqrt(2.0 * max(cov[at, at], 0.0)) / means[("bb", "M")])
    return SkipInteraction(float(second[0] + 2.0 * scale * second[1]),
                           float(scale * second[2]), expansion)


def with_skip_interaction(problem: Problem, bias: float, variance: float
                          ) -> tuple[float, float, str]:
    """``(bias, variance, message)`` with the interaction added, or the given limit and a
    message when the expansion parameter exceeds :data:`MAX_EXPANSION` (message non-empty:
    the caller reports ILL_CONDITIONED)."""
    corr = skip_interaction_correction(problem)
    if corr.expansion > MAX_EXPANSION:
        return bias, variance, (
            f"the O(r/d) interaction expansion does not hold here (relative fluctuation "
            f"{corr.expansion:.2g} of the resolvent forms > {MAX_EXPANSION:g}: c close to 1 "
            "with small reg, or d - N of a few); the d -> infinity limit is returned")
    return bias + corr.delta_bias, variance + corr.delta_variance, ""


def _second_order(p: int, means: dict, covs: dict, sv: np.ndarray, ell: np.ndarray,
                  lam: float) -> np.ndarray:
    """``1/2 sum Var(z) d^2 f/dz^2`` over the coordinates that couple all of a ``p``-direction
    subsystem (``p = 1``: its diagonal entries; ``p = 2``: the entries between the two), summed
    over the subsystems given by the rows of ``sv`` and ``ell`` (shape ``(pairs, p)``)."""
    eye, zero = np.eye(p), np.zeros((p, p))
    base = {}
    for mat in _MATRICES:
        top = means.get(("aa", mat), 0.0) * eye
        base[mat] = (np.hstack([top, zero]) if mat == "H" else
                     np.block([[top, zero], [zero, means.get(("bb", mat), 0.0) * eye]]))
    moves, variances = [], []
    for block, (fams, cov) in covs.items():
        lam_c, vec = np.linalg.eigh(cov)
        for e in np.flatnonzero(lam_c > 1e-13 * max(float(lam_c.max()), 1e-300)):
            for (a, b), factor in _entries(block, p):
                move = {mat: np.zeros_like(base[mat]) for mat in _MATRICES}
                for f, amp in zip(fams, vec[:, e], strict=True):
                    move[f.matrix][a, b] += amp
                    if a != b and (f.matrix != "H" or block == "aa"):
                        move[f.matrix][b, a] += amp   # symmetric forms; Kc^T; symmetric H_1
                moves.append(move)
                variances.append(factor * lam_c[e])
    var = np.array(variances)
    step = _REL_STEP * np.sqrt(var)[:, None, None]
    stack = {mat: step * np.array([mv[mat] for mv in moves]) for mat in _MATRICES}
    svb, ellb = sv[:, None, :], ell[:, None, :]      # (pairs, 1, p) against (moves, ...)
    f0 = skip_reduced_statistics(*(base[mat] for mat in _MATRICES), sv, ell, lam)
    plus = skip_reduced_statistics(*(base[mat] + stack[mat] for mat in _MATRICES), svb, ellb,
                                   lam)
    minus = skip_reduced_statistics(*(base[mat] - stack[mat] for mat in _MATRICES), svb, ellb,
                                    lam)
    diff = (plus + minus - 2.0 * f0[:, None, :]) / (step[None, :, :, 0] ** 2)
    return 0.5 * np.einsum("m,pmk->k", var, diff)


def _entries(block: str, p: int) -> list[tuple[tuple[int, int], float]]:
    """Matrix entries ``(row, col)`` of the coordinates that couple all of a ``p``-subsystem,
    with the index factor of their variance (2 on the diagonal of a symmetric block)."""
    if p == 1:
        return {"aa": [((0, 0), 2.0)], "bb": [((1, 1), 2.0)], "ab": [((0, 1), 1.0)]}[block]
    return {"aa": [((0, 1), 1.0)], "bb": [((2, 3), 1.0)],
            "ab": [((0, 3), 1.0), ((1, 2), 1.0)]}[block]
