"""Monte Carlo draws in the singular frame of the noise: the risk statistics without ``d x N``.

The risk statistics of a trained weight do not change when ``Y``, ``U`` and ``V`` are rotated
together (``Y -> O1 Y O2^T``, ``U -> O1 U``, ``V -> O2 V``). Rotating by the singular bases of
the noise ``A = P diag(a) Q^T`` gives ``Y = D_a + U diag(sv) V^T`` where ``D_a`` is the
``d x N`` rectangular diagonal matrix of the noise singular values and ``U``, ``V`` are again
Haar frames, independent of each other and of ``a`` (docs/gram_sampling.md §1). One replicate
therefore needs only

* the singular values ``a`` of a Gaussian ``d x N`` matrix, drawn as those of the bidiagonal
  chi matrix of Dumitriu & Edelman (docs/gram_sampling.md §2): ``O(min(d, N)^2)`` operations,
* two Haar frames ``U`` (``d x r``) and ``V`` (``N x r``).

Every Gram matrix of ``Y`` is then a diagonal plus a rank-``2r`` matrix, solved by Woodbury in
``O(min(d, N) r^2)`` (one refinement step and a residual check; a failed check falls back to the
dense reference on the same draw). Without skip that is all. With skip and ``c > 1``,
``reg = 0`` the kept noise directions are coordinate vectors (``A H A^T = D_a D_a^T``); otherwise
one ``p x p`` matrix (``p = min(d, N)``), a diagonal plus rank ``<= 4r``, is formed and its top
``k`` eigenpairs computed (docs/gram_sampling.md §3–4).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import scipy.linalg as sla
from scipy.sparse.linalg import ArpackError, LinearOperator, eigsh

from ..problem import Problem
from .sampling import haar_frame
from .training import (
    RiskStatistics,
    check_training_args,
    kept_positions,
    no_skip_statistics,
    risk_statistics,
)

__all__ = [
    "GramSample",
    "bidiagonal_singular_values",
    "dense_training_set",
    "gram_risk_statistics",
    "gram_sample",
    "noise_bidiagonal",
    "noise_singular_values",
]

_EPS = np.finfo(float).eps
#: accepted backward error of a Woodbury solve, in units of ``eps * size`` (Cholesky's order)
_RESIDUAL_EPS = 64.0
#: at most this many top eigenvectors by Lanczos (more: one dense partial eigendecomposition)
_LANCZOS_MAX = 32


class GramSample(NamedTuple):
    """One training draw in the bidiagonal frame of the noise: ``Y = D + U diag(sv) V^T``.

    ``D`` is ``d x N`` with leading ``p x p`` block ``B`` (``N <= d``) or ``B^T`` (``N > d``),
    ``B`` upper bidiagonal with diagonal ``alpha`` and superdiagonal ``beta``, zero elsewhere.

    Attributes
    ----------
    alpha : ndarray, shape (p,)
        Diagonal of ``B``, ``p = min(d, N)``.
    beta : ndarray, shape (p - 1,)
        Superdiagonal of ``B`` (all zero: ``D`` is diagonal, ``alpha`` its singular values).
    U : ndarray, shape (d, r)
        Haar frame of the signal's left singular vectors.
    V : ndarray, shape (N, r)
        Haar frame of the signal's right singular vectors.
    """

    alpha: np.ndarray
    beta: np.ndarray
    U: np.ndarray
    V: np.ndarray


def noise_bidiagonal(d: int, n: int, eta2: float,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Golub-Kahan bidiagonal of a ``d x n`` matrix with i.i.d. ``N(0, eta2 / d)`` entries.

    Returns ``(alpha, beta)``: ``alpha_i = s chi_{m-i+1}``, ``beta_i = s chi_{p-i}``
    (``i = 1 ... p``, ``m = max(d, n)``, ``p = min(d, n)``, ``s^2 = eta2 / d``), independent
    (docs/gram_sampling.md §2).
    """
    m, p = max(d, n), min(d, n)
    scale = np.sqrt(eta2 / d)
    alpha = np.sqrt(rng.chisquare(np.arange(m, m - p, -1, dtype=float))) * scale
    beta = np.sqrt(rng.chisquare(np.arange(p - 1, 0, -1, dtype=float))) * scale
    return alpha, beta


def bidiagonal_singular_values(alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Singular values of the upper bidiagonal ``B``, decreasing; ``alpha`` itself if ``beta = 0``.

    Square roots of the eigenvalues of the tridiagonal ``B^T B`` (LAPACK ``dsterf``,
    ``O(p^2)``); the small ones are resolved to about ``eps * max(B)^2`` absolutely, as from
    the Gram matrix of the dense path.
    """
    if not np.any(beta):
        return np.abs(alpha)
    diag = alpha * alpha
    diag[1:] += beta * beta
    w = sla.eigvalsh_tridiagonal(diag, alpha[:-1] * beta, lapack_driver="sterf",
                                 check_finite=False)
    return np.sqrt(np.maximum(w[::-1], 0.0))


def noise_singular_values(d: int, n: int, eta2: float, rng: np.random.Generator) -> np.ndarray:
    """Singular values (decreasing) of a ``d x n`` matrix with i.i.d. ``N(0, eta2 / d)`` entries.

    Exact in distribution: those of :func:`noise_bidiagonal` (docs/gram_sampling.md §2).
    """
    return bidiagonal_singular_values(*noise_bidiagonal(d, n, eta2, rng))


def gram_sample(problem: Problem, rng: np.random.Generator) -> GramSample:
    """Draw ``U``, ``V`` (Haar) and the noise bidiagonal of ``problem``."""
    U = haar_frame(problem.d, problem.r, rng)
    V = haar_frame(problem.n, problem.r, rng)
    alpha, beta = noise_bidiagonal(problem.d, problem.n, problem.eta2_train, rng)
    return GramSample(alpha, beta, U, V)


def dense_training_set(sample: GramSample, sv: np.ndarray, *, skip: bool = False) -> np.ndarray:
    """The draw that :func:`gram_risk_statistics` trains, as a dense ``d x N`` matrix.

    ``D + U diag(sv) V^T``; with ``skip`` and a nonzero ``beta`` the skip path works in the
    diagonal frame, ``D`` replaced by ``diag(bidiagonal_singular_values)`` (same frames ``U``,
    ``V``: another draw of the same law, docs/gram_sampling.md §3).
    """
    alpha, beta, U, V = sample
    Y = (U * np.asarray(sv, dtype=float)) @ V.T
    p = alpha.size
    i = np.arange(p)
    if skip and np.any(beta):
        Y[i, i] += bidiagonal_singular_values(alpha, beta)
        return Y
    Y[i, i] += alpha
    if V.shape[0] <= U.shape[0]:
        Y[i[:-1], i[1:]] += beta      # B, upper
    else:
        Y[i[1:], i[:-1]] += beta      # B^T, lower
    return Y


# --------------------------------------------------------------------------------------------
# diagonal plus low rank
# --------------------------------------------------------------------------------------------
class _Unstable(Exception):
    """A Woodbury solve missed its residual bound: use the dense path on the same draw."""


def _signal_core(sv: np.ndarray) -> np.ndarray:
    """``[[0, S], [S, S^2]]``: ``Y^T Y = D^T D + [D^T U, V] core [D^T U, V]^T``."""
    r = sv.size
    C = np.zeros((2 * r, 2 * r))
    C[:r, r:] = C[r:, :r] = np.diag(sv)
    C[r:, r:] = np.diag(sv * sv)
    return C


class _Diagonal:
    """``diag(lam)`` (the noise in its singular frame: ``D^T D + reg``)."""

    def __init__(self, lam: np.ndarray) -> None:
        self.lam = lam
        self.size = lam.size
        self.norm = float(np.max(np.abs(lam)))

    def solve(self, R: np.ndarray) -> np.ndarray:
        return R / self.lam[:, None]

    def matmul(self, R: np.ndarray) -> np.ndarray:
        return self.lam[:, None] * R


class _Tridiagonal:
    """``B^T B + reg`` for the upper bidiagonal ``B``: banded Cholesky, ``O(p)`` per column.

    At ``reg = 0`` the Cholesky factor is ``B^T`` itself (no squaring).
    """

    def __init__(self, alpha: np.ndarray, beta: np.ndarray, reg: float) -> None:
        self.alpha, self.beta, self.reg = alpha, beta, reg
        self.size = alpha.size
        if reg == 0:
            self.factor = np.vstack([alpha, np.append(beta, 0.0)])
        else:
            diag = alpha * alpha + reg
            diag[1:] += beta * beta
            band = np.vstack([diag, np.append(alpha[:-1] * beta, 0.0)])
            try:
                self.factor = sla.cholesky_banded(band, lower=True, check_finite=False)
            except np.linalg.LinAlgError:
                raise _Unstable from None
        top = float(np.max(np.abs(alpha))) + (float(np.max(np.abs(beta))) if beta.size else 0.0)
        self.norm = top * top + reg

    def solve(self, R: np.ndarray) -> np.ndarray:
        return sla.cho_solve_banded((self.factor, True), R, check_finite=False)

    def matmul(self, R: np.ndarray) -> np.ndarray:
        BR = self.alpha[:, None] * R
        BR[:-1] += self.beta[:, None] * R[1:]
        return _lower_bidiagonal_times(self.alpha, self.beta, BR) + self.reg * R


def _lower_bidiagonal_times(alpha: np.ndarray, beta: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``B^T X`` for the upper bidiagonal ``B`` (diagonal ``alpha``, superdiagonal ``beta``)."""
    out = alpha[:, None] * X
    out[1:] += beta[:, None] * X[:-1]
    return out


class _LowRankUpdate:
    """``G = L + F C F^T`` (``L`` diagonal or tridiagonal, ``C`` symmetric, maybe indefinite).

    ``G^{-1} = L^{-1} - P C K^{-1} P^T`` with ``P = L^{-1} F``, ``K = I + F^T P C`` (Woodbury,
    without inverting ``C``). Solves take one refinement step and check the residual.
    """

    def __init__(self, base: _Diagonal | _Tridiagonal, F: np.ndarray, C: np.ndarray) -> None:
        self.base, self.F, self.C = base, F, C
        with np.errstate(all="ignore"):
            self.P = base.solve(F)
            K = np.eye(C.shape[0]) + (F.T @ self.P) @ C
        if not np.all(np.isfinite(K)):
            raise _Unstable
        with np.errstate(all="ignore"):
            self.lu = sla.lu_factor(K, check_finite=False)
        self.norm = base.norm + float(np.sum(F * F)) * float(np.max(np.abs(C))) * C.shape[0]
        self.tol = _RESIDUAL_EPS * base.size * _EPS

    def matmul(self, R: np.ndarray) -> np.ndarray:
        return self.base.matmul(R) + self.F @ (self.C @ (self.F.T @ R))

    def core_inverse(self) -> np.ndarray:
        """``C K^{-1}`` (symmetric): ``G^{-1} = L^{-1} - P (C K^{-1}) P^T``."""
        out = sla.lu_solve(self.lu, self.C, trans=1, check_finite=False).T
        return 0.5 * (out + out.T)

    def _raw(self, R: np.ndarray) -> np.ndarray:
        inner = sla.lu_solve(self.lu, self.P.T @ R, check_finite=False)
        return self.base.solve(R) - self.P @ (self.C @ inner)

    def solve(self, R: np.ndarray) -> np.ndarray:
        """``G^{-1} R`` with one step of refinement; :class:`_Unstable` if the residual is large."""
        with np.errstate(all="ignore"):
            X = self._raw(R)
            X += self._raw(R - self.matmul(X))
            res = float(np.linalg.norm(R - self.matmul(X)))
            bound = self.tol * (self.norm * float(np.linalg.norm(X)) + float(np.linalg.norm(R)))
        if not np.isfinite(res) or not res <= bound:
            raise _Unstable
        return X


# --------------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------------
def _no_skip(alpha, beta, U, sv, V, d, n, k, reg, critical_set) -> RiskStatistics:
    p, r = alpha.size, sv.size
    tall = n <= d                            # the N x N Gram, as in the dense path
    X1, X2 = (U, V) if tall else (V, U)      # Y^T = D^T + V S U^T: the same structure swapped
    BX1 = _lower_bidiagonal_times(alpha, beta, X1[:p])      # D^T U (tall) or D V (wide)
    G = _LowRankUpdate(_Tridiagonal(alpha, beta, reg), np.hstack([BX1, X2]), _signal_core(sv))
    if tall:
        Z = G.solve(V)                       # (Y^T Y + reg)^{-1} V
        VZ = V.T @ Z
        VHV = np.eye(r) - reg * VZ
        VSU = Z.T @ (BX1 + V * sv)           # Y^T U = D^T U + V S
        VSSV = VZ - reg * (Z.T @ Z)
    else:
        YV = BX1 + U * sv                    # Y V = D V + U S
        Z = G.solve(YV)                      # (Y Y^T + reg)^{-1} Y V
        VHV, VSU, VSSV = YV.T @ Z, Z.T @ U, Z.T @ Z
    return no_skip_statistics(VHV, VSU, VSSV, sv, k, critical_set, max(d, n))


def _top_eigenvectors(g: np.ndarray, Z: np.ndarray, core: np.ndarray, k: int,
                      critical_set: Sequence[int] | None, scale: int) -> np.ndarray:
    """Kept eigenvectors of ``M = diag(g) + Z core Z^T`` (symmetric).

    A few eigenvectors come from Lanczos iterations on the structured product (``O(p r)`` per
    step, :data:`_LANCZOS_MAX` at most, ARPACK to machine precision); more, or a Lanczos
    failure, from one dense ``p x p`` matrix and LAPACK's partial ``dsyevr``.
    """
    p = g.size
    needed = min(k, p) if critical_set is None else max(critical_set)
    if needed > p:
        raise ValueError(f"critical_set entries must be in [1, {p}], got {list(critical_set)}")
    beta = vec = None
    if needed <= _LANCZOS_MAX and 4 * needed <= p:
        ZC = Z @ core
        op = LinearOperator((p, p), dtype=float,
                            matvec=lambda x: g * x.ravel() + ZC @ (Z.T @ x.ravel()))
        try:
            beta, vec = eigsh(op, k=needed, which="LA", tol=0.0, v0=_start_vector(p))
        except ArpackError:
            beta = None
    if beta is None:
        M = (Z @ core) @ Z.T
        M.flat[:: p + 1] += g
        beta, vec = sla.eigh(M, subset_by_index=[p - needed, p - 1], check_finite=False,
                             overwrite_a=True)
        del M
    order = np.argsort(-beta, kind="stable")
    beta, vec = beta[order], vec[:, order]
    return vec[:, kept_positions(beta, k, critical_set, scale)]


def _start_vector(p: int) -> np.ndarray:
    """A fixed generic start for Lanczos (results reproducible from the replicate's seed)."""
    return np.random.default_rng(p).standard_normal(p)


def _skip(alpha, beta, U, sv, V, d, n, k, reg, critical_set) -> RiskStatistics:
    # the diagonal frame: A H A^T is diagonal plus low rank there (docs/gram_sampling.md §3)
    a = bidiagonal_singular_values(alpha, beta)
    r = sv.size
    scale = max(d, n)
    C = _signal_core(sv)
    if n <= d:
        F = np.hstack([a[:, None] * U[:n], V])
        G = _LowRankUpdate(_Diagonal(a * a + reg), F, C)         # Y^T Y + reg
        YtU = F[:, :r] + V * sv
        if reg == 0:
            # H = I: A H A^T = D D^T, the kept directions are the coordinates I.
            order = np.argsort(-a, kind="stable")        # ranks of the eigenvalues a^2
            idx = order[kept_positions((a * a)[order], k, critical_set, scale)]
            cols = np.arange(idx.size)
            unit = np.zeros((n, idx.size))
            unit[idx, cols] = 1.0
            ZI = G.solve(unit)                           # G^{-1} e_i
            aI = a[idx]
            diag = ZI[idx, cols]
            RI = ZI.T @ YtU                              # rows I of G^{-1} Y^T U
            gram = RI.T @ ((aI * aI)[:, None] * RI)
            frob2 = float(np.sum(aI * aI * diag))
            cross = np.sum((ZI.T @ V) * (U[idx] * sv), axis=1)
            trace = -float(np.sum(aI * (aI * diag + cross)))
            return RiskStatistics(gram, trace, frob2)
        # A H A^T = [D (I - reg G^{-1}) D, 0; 0, 0]: diagonal plus rank 2r on the first N
        Pa = a[:, None] * G.P
        Xk = _top_eigenvectors(a**4 / (a * a + reg), Pa, reg * G.core_inverse(), k,
                               critical_set, scale)
        AX = a[:, None] * Xk
        Uk = G.solve(AX)                                 # u_j = G^{-1} D^T x_j
        B = Uk.T @ YtU
        frob2 = float(np.sum(AX * Uk) - reg * np.sum(Uk * Uk))
        trace = -float(np.sum(Uk * AX) + np.sum((Uk.T @ V) * sv * (Xk.T @ U[:n])))
        return RiskStatistics(B.T @ B, trace, frob2)
    # c < 1: K = Y Y^T + reg, E = Y D^T = D D^T + U S (D V)^T, A H A^T = E^T K^{-1} E
    Va = a[:, None] * V[:d]
    lam = a * a + reg
    K = _LowRankUpdate(_Diagonal(lam), np.hstack([Va, U]), C)
    UL = U / lam[:, None]
    EtP = (a * a)[:, None] * K.P + Va @ (sv[:, None] * (U.T @ K.P))
    Z = np.hstack([(a * a)[:, None] * UL, Va, EtP])
    core = np.zeros((4 * r, 4 * r))
    core[:r, r:2 * r] = core[r:2 * r, :r] = np.diag(sv)
    core[r:2 * r, r:2 * r] = sv[:, None] * (U.T @ UL) * sv[None, :]
    core[2 * r:, 2 * r:] = -K.core_inverse()
    Xk = _top_eigenvectors(a**4 / lam, Z, core, k, critical_set, scale)
    EX = (a * a)[:, None] * Xk + U @ (sv[:, None] * (Va.T @ Xk))
    Qk = K.solve(EX)                                     # K^{-1} E x_j
    B = Qk.T @ U
    return RiskStatistics(B.T @ B, -float(np.sum(Qk * Xk)), float(np.sum(Qk * Qk)))


def gram_risk_statistics(sample: GramSample, sv: np.ndarray, *, k: int, skip: bool,
                         reg: float = 0.0,
                         critical_set: Sequence[int] | None = None) -> RiskStatistics:
    """Risk statistics of the critical point ``W_I`` of a draw given in the noise frame.

    Equal, on the same draw, to :func:`~rmtrisk.montecarlo.training.risk_statistics` of
    :func:`dense_training_set` (up to rounding), without forming any ``d x N`` matrix.

    Parameters
    ----------
    sample : GramSample
        ``a`` (noise singular values), ``U`` (``d x r``), ``V`` (``N x r``).
    sv : ndarray, shape (r,)
        Singular values of ``X``.
    k : int
        Bottleneck width.
    skip : bool
        Skip-connection model or not.
    reg : float
        Product regularization ``lambda >= 0``.
    critical_set : sequence of int, optional
        1-based ranks of the kept triplets; ``None`` is the global minimizer.

    Returns
    -------
    RiskStatistics
    """
    alpha, beta, U, V = sample
    sv = np.asarray(sv, dtype=float)
    d, n = U.shape[0], V.shape[0]
    p = min(d, n)
    if alpha.shape != (p,) or beta.shape != (p - 1,) or V.shape[1] != U.shape[1] \
            or sv.shape != (U.shape[1],):
        raise ValueError(f"sample must hold alpha of length min(d, N) = {p}, beta of length "
                         f"{p - 1} and frames with r = len(sv) = {sv.size} columns; got alpha "
                         f"{alpha.shape}, beta {beta.shape}, U {U.shape}, V {V.shape}")
    check_training_args(k, reg, critical_set, d)
    run = _skip if skip else _no_skip
    try:
        return run(alpha, beta, U, sv, V, d, n, k, float(reg), critical_set)
    except _Unstable:  # ill-conditioned draw (c near 1 at reg = 0): the dense reference
        return risk_statistics(dense_training_set(sample, sv, skip=skip), U, sv, V, k=k,
                               skip=skip, reg=reg, critical_set=critical_set)
