"""Finite-size training: closed-form critical points and the risk statistics of the minimizer.

The loss is ``L(W1, W2) = 1/2 ||T - W2 W1 Y||_F^2 + (lambda/2) ||W2 W1||_F^2`` with target
``T = X`` (no skip) or ``T = X - Y = -A`` (skip). With ``S = Y^T (Y Y^T + lambda I)^{-1}``
(the ridge solve, ``S -> Y^+`` as lambda -> 0) and ``H = S Y`` (``-> Y^+ Y``), every critical
point of the product ``W = W2 W1`` is

    W_I = Pi_I  T S,        Pi_I = projector on the eigenvectors I of  T H T^T,

i.e. ``P_I(M) R^{-1/2}`` with ``M = T Y^T R^{-1/2}`` and ``R = Y Y^T + lambda I``
(docs/conventions.md §5), and for lambda = 0 the minimum-norm limit ``P_I(T Y^+ Y) Y^+``. The
global minimizer keeps the top ``k`` eigenvectors.

Two implementations live here:

* :func:`critical_point` forms the dense ``d x d`` weight from SVDs. It is the reference, for
  small problems, gradient-flow checks and tests.
* :func:`risk_statistics` returns only what the test risk needs (``tr W``, ``||W||_F^2`` and the
  ``r x r`` Gram of ``W`` or ``I - W`` on the signal directions), from the Gram matrix of the
  smaller side of ``Y``. Without skip it needs one Cholesky factorisation and no eigen- or
  singular-value decomposition of the noise; with skip one symmetric eigendecomposition of the
  small Gram matrix and one partial one of a matrix of the same size.

Rank decisions: a singular value ``y`` of ``Y`` counts as zero when
``y <= max(d, N) * eps * y_max`` (``y^2 <= max(d, N) * eps * y_max^2`` when it comes from a Gram
matrix, which resolves ``y`` only down to ``sqrt(eps) * y_max``); an eigenvalue of ``T H T^T``
counts as zero below ``max(d, N) * eps`` times the largest. Zero directions are never selected,
so ``k`` larger than the rank gives the full (ridge / minimum-norm) solution.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import scipy.linalg as sla

__all__ = [
    "RiskStatistics",
    "check_training_args",
    "critical_point",
    "dae_gradient",
    "dae_loss",
    "factorize",
    "kept_positions",
    "no_skip_statistics",
    "risk_statistics",
    "statistics_from_weight",
]

_EPS = np.finfo(float).eps


class RiskStatistics(NamedTuple):
    """What the test risk of a trained weight ``W`` depends on (docs/conventions.md §6).

    Attributes
    ----------
    test_gram : ndarray, shape (r, r)
        ``G^T G`` with ``G = (I - W) U`` without skip and ``G = W U`` with skip, so that the
        signal part of the risk is ``sum_ij (L L^T / N_t)_ij test_gram_ij``.
    trace : float
        ``tr W``.
    frob2 : float
        ``||W||_F^2``.
    """

    test_gram: np.ndarray
    trace: float
    frob2: float


# --------------------------------------------------------------------------------------------
# selection of the kept directions
# --------------------------------------------------------------------------------------------
def check_training_args(k: Any, reg: Any, critical_set: Any, d: int) -> None:
    """ValueErrors naming ``k``, ``reg`` or ``critical_set`` and their valid ranges."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or not 1 <= k <= d:
        raise ValueError(f"k must be an integer in [1, d={d}], got {k!r}")
    if isinstance(reg, (bool, np.bool_)) or not isinstance(reg, (int, float, np.integer,
                                                                  np.floating)) \
            or not np.isfinite(reg) or reg < 0:
        raise ValueError(f"reg must be >= 0 and finite, got {reg!r}")
    if critical_set is not None:
        if isinstance(critical_set, (set, frozenset, dict, str, bytes)):
            raise ValueError("critical_set must be a list or tuple of 1-based ranks, got "
                             f"{type(critical_set).__name__}")
        ranks = list(critical_set)
        if not ranks:
            raise ValueError("critical_set must not be empty (use None for the minimizer)")
        if any(isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer))
               for i in ranks):
            raise ValueError(f"critical_set entries must be integers >= 1, got {ranks}")
        if len(set(ranks)) != len(ranks):
            raise ValueError(f"critical_set must not repeat an index, got {ranks}")


def kept_positions(eigenvalues_desc: np.ndarray, k: int, critical_set: Sequence[int] | None,
                   scale: int) -> np.ndarray:
    """0-based positions (into the decreasing eigenvalues) of the kept, numerically nonzero ones.

    ``eigenvalues_desc[0]`` must be the overall largest eigenvalue; one counts as zero below
    ``scale * eps`` times it.
    """
    if critical_set is None:
        idx = np.arange(min(k, eigenvalues_desc.size))
    else:
        idx = np.asarray(critical_set, dtype=int) - 1
        if idx.size > k:
            raise ValueError(f"critical_set may hold at most k={k} indices, got {idx.size}")
        if idx.size and (idx.min() < 0 or idx.max() >= eigenvalues_desc.size):
            raise ValueError(
                f"critical_set entries must be in [1, {eigenvalues_desc.size}], "
                f"got {list(critical_set)}"
            )
    top = eigenvalues_desc[0] if eigenvalues_desc.size else 0.0
    nonzero = eigenvalues_desc[idx] > scale * _EPS * top
    return idx[nonzero]


# --------------------------------------------------------------------------------------------
# dense reference
# --------------------------------------------------------------------------------------------
def critical_point(Y: np.ndarray, T: np.ndarray, k: int, reg: float = 0.0,
                   critical_set: Sequence[int] | None = None) -> np.ndarray:
    """Dense critical point ``W_I = Pi_I T S`` of the product-regularized DAE loss.

    Parameters
    ----------
    Y : ndarray, shape (d, N)
        Noisy training inputs.
    T : ndarray, shape (d, N)
        Training target (``X`` without skip, ``-A = X - Y`` with skip).
    k : int
        Bottleneck width.
    reg : float
        Product regularization ``lambda >= 0``; 0 gives the minimum-norm limit.
    critical_set : sequence of int, optional
        1-based ranks of the kept singular triplets of ``M``; ``None`` keeps the top ``k``.

    Returns
    -------
    ndarray, shape (d, d)
        The product ``W = W2 W1``.
    """
    d, N = Y.shape
    if T.shape != Y.shape:
        raise ValueError(f"T must have the shape of Y {Y.shape}, got {T.shape}")
    check_training_args(k, reg, critical_set, d)
    P, y, Qt = np.linalg.svd(Y, full_matrices=False)
    keep = y > max(d, N) * _EPS * (y[0] if y.size else 0.0)
    P, y, Q = P[:, keep], y[keep], Qt[keep].T
    TQ = T @ Q
    E, m, _ = np.linalg.svd(TQ * (y / np.sqrt(y**2 + reg)), full_matrices=False)
    E_I = E[:, kept_positions(m**2, k, critical_set, max(d, N))]
    return E_I @ ((E_I.T @ TQ) * (y / (y**2 + reg))) @ P.T


def statistics_from_weight(W: np.ndarray, U: np.ndarray, skip: bool) -> RiskStatistics:
    """:class:`RiskStatistics` of a dense weight (reference for :func:`risk_statistics`)."""
    G = W @ U if skip else U - W @ U
    return RiskStatistics(G.T @ G, float(np.trace(W)), float(np.sum(W * W)))


def dae_loss(W1: np.ndarray, W2: np.ndarray, Y: np.ndarray, T: np.ndarray,
             reg: float = 0.0) -> float:
    """``1/2 ||T - W2 W1 Y||_F^2 + (reg/2) ||W2 W1||_F^2``."""
    W = W2 @ W1
    E = T - W @ Y
    return 0.5 * float(np.sum(E * E)) + 0.5 * reg * float(np.sum(W * W))


def dae_gradient(W1: np.ndarray, W2: np.ndarray, Y: np.ndarray, T: np.ndarray,
                 reg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Gradients ``(dL/dW1, dL/dW2)`` of :func:`dae_loss`."""
    W = W2 @ W1
    G = (W @ Y - T) @ Y.T + reg * W
    return W2.T @ G, G @ W1.T


def factorize(W: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Balanced factors ``(W1, W2)`` with ``W2 W1 = W``, ``W1`` of shape ``(k, d)``.

    Requires ``rank(W) <= k``; unused rows of ``W1`` (columns of ``W2``) are zero.
    """
    E, s, Ft = np.linalg.svd(W)
    tol = W.shape[0] * _EPS * max(s[0], 1.0)
    if s.size > k and s[k] > tol:
        raise ValueError(f"W has rank > k={k}")
    root = np.sqrt(np.where(s[:k] > tol, s[:k], 0.0))
    return root[:, None] * Ft[:k], E[:, :k] * root


# --------------------------------------------------------------------------------------------
# factored statistics (what the Monte Carlo verifier uses)
# --------------------------------------------------------------------------------------------
class _GramSpectrum(NamedTuple):
    """Eigendecomposition of the small Gram matrix of ``Y``, projected on the signal."""

    y: np.ndarray    # singular values of Y kept (decreasing), length p
    PtU: np.ndarray  # P^T U, (p, r), P the left singular vectors of Y
    QtV: np.ndarray  # Q^T V, (p, r), Q the right singular vectors of Y


def _gram_spectrum(Y: np.ndarray, U: np.ndarray, V: np.ndarray) -> _GramSpectrum:
    d, N = Y.shape
    if N <= d:
        w, Q = sla.eigh(Y.T @ Y, overwrite_a=True, check_finite=False)
    else:
        w, P = sla.eigh(Y @ Y.T, overwrite_a=True, check_finite=False)
    w = w[::-1]
    keep = w > max(d, N) * _EPS * w[0]
    y = np.sqrt(w[keep])
    if N <= d:
        Q = Q[:, ::-1][:, keep]
        return _GramSpectrum(y, (Q.T @ (Y.T @ U)) / y[:, None], Q.T @ V)
    P = P[:, ::-1][:, keep]
    return _GramSpectrum(y, P.T @ U, (P.T @ (Y @ V)) / y[:, None])


def _ridge_blocks(Y: np.ndarray, U: np.ndarray, V: np.ndarray, reg: float):
    """``(V^T H V, V^T S U, V^T S S^T V)`` from one Cholesky factorisation of the small Gram."""
    d, N = Y.shape
    r = V.shape[1]
    if N <= d:
        G = Y.T @ Y
        G.flat[:: N + 1] += reg
        factor = sla.cho_factor(G, lower=True, overwrite_a=True, check_finite=False)
        Z = sla.cho_solve(factor, V, check_finite=False)  # (G + reg)^{-1} V
        VZ = V.T @ Z
        VHV = np.eye(r) - reg * VZ
        VSU = Z.T @ (Y.T @ U)
        VSSV = VZ - reg * (Z.T @ Z)
    else:
        K = Y @ Y.T
        K.flat[:: d + 1] += reg
        factor = sla.cho_factor(K, lower=True, overwrite_a=True, check_finite=False)
        YV = Y @ V
        Z = sla.cho_solve(factor, YV, check_finite=False)  # (K + reg)^{-1} Y V
        VHV = YV.T @ Z
        VSU = Z.T @ U
        VSSV = Z.T @ Z
    return VHV, VSU, VSSV


def _ridge_blocks_spectral(spec: _GramSpectrum, reg: float):
    """Same blocks as :func:`_ridge_blocks` from the spectrum (pseudo-inverse when singular)."""
    y2 = spec.y**2
    QtV = spec.QtV
    VHV = QtV.T @ ((y2 / (y2 + reg))[:, None] * QtV)
    VSU = QtV.T @ ((spec.y / (y2 + reg))[:, None] * spec.PtU)
    VSSV = QtV.T @ ((y2 / (y2 + reg) ** 2)[:, None] * QtV)
    return VHV, VSU, VSSV


def _no_skip(Y, U, sv, V, k, reg, critical_set) -> RiskStatistics:
    try:
        VHV, VSU, VSSV = _ridge_blocks(Y, U, V, reg)
    except np.linalg.LinAlgError:  # singular Gram (lambda = 0 at c = 1, degenerate draws)
        VHV, VSU, VSSV = _ridge_blocks_spectral(_gram_spectrum(Y, U, V), reg)
    return no_skip_statistics(VHV, VSU, VSSV, sv, k, critical_set, max(Y.shape))


def no_skip_statistics(VHV: np.ndarray, VSU: np.ndarray, VSSV: np.ndarray, sv: np.ndarray,
                       k: int, critical_set: Sequence[int] | None,
                       scale: int) -> RiskStatistics:
    """No-skip :class:`RiskStatistics` from the ``r x r`` ridge blocks.

    Parameters
    ----------
    VHV, VSU, VSSV : ndarray, shape (r, r)
        ``V^T H V``, ``V^T S U`` and ``V^T S S^T V``.
    sv : ndarray, shape (r,)
        Singular values of ``X``.
    k, critical_set
        As in :func:`risk_statistics`.
    scale : int
        ``max(d, N)``, the rank-decision scale of :func:`kept_positions`.
    """
    r = sv.size
    # W = U Pi X-part:  M M^T = U diag(sv) V^T H V diag(sv) U^T,  W = U P diag(sv) V^T S
    core = sv[:, None] * VHV * sv[None, :]
    lam, vec = np.linalg.eigh(core)
    lam, vec = lam[::-1], vec[:, ::-1]
    sel = vec[:, kept_positions(lam, k, critical_set, scale)]
    proj = sel @ sel.T
    PBU = proj @ (sv[:, None] * VSU)
    delta = np.eye(r) - PBU
    frob2 = float(np.sum(proj * (sv[:, None] * VSSV * sv[None, :])))
    return RiskStatistics(delta.T @ delta, float(np.trace(PBU)), frob2)


def _skip(Y, U, sv, V, k, reg, critical_set) -> RiskStatistics:
    y, PtU, QtV = _gram_spectrum(Y, U, V)
    p = y.size
    shrink = y / np.sqrt(y**2 + reg)                           # diag of Yhat
    damp = 1.0 / np.sqrt(y**2 + reg)                           # diag of D
    # In the singular bases of Y, A = Y - U diag(sv) V^T is diagonal plus rank r:
    #   P^T A Q = diag(y) - PtU S QtV^T,
    #   Q^T A^T A Q = diag(y^2) + Z [[0, -I], [-I, S^2]] Z^T,  Z = [y * PtU * sv, QtV],
    # so B^T B = Yhat Q^T A^T A Q Yhat is one p x p product plus a diagonal.
    r = sv.size
    Z = np.hstack([(y[:, None] * PtU) * sv, QtV]) * shrink[:, None]
    core = np.zeros((2 * r, 2 * r))
    core[:r, r:] = core[r:, :r] = -np.eye(r)
    core[r:, r:] = np.diag(sv**2)
    BtB = (Z @ core) @ Z.T
    BtB.flat[:: p + 1] += (shrink * y) ** 2
    needed = min(k, p) if critical_set is None else max(critical_set)
    if needed > p:
        raise ValueError(f"critical_set entries must be in [1, {p}], got {list(critical_set)}")
    beta, vec = sla.eigh(BtB, subset_by_index=[p - needed, p - 1], check_finite=False,
                         overwrite_a=True)
    del BtB
    beta, vec = beta[::-1], vec[:, ::-1]
    pos = kept_positions(beta, k, critical_set, max(Y.shape))  # beta[0] is the overall largest
    beta, vec = beta[pos], vec[:, pos]
    # W = -B Pi_w D P^T,  B = A Q Yhat,  ||W||^2 = sum_j beta_j ||D w_j||^2
    Dw = damp[:, None] * vec
    Sw = shrink[:, None] * vec
    frob2 = float(np.sum(beta * np.sum(Dw * Dw, axis=0)))
    DwU = Dw.T @ PtU                                            # W_k^T D P^T U
    gram = DwU.T @ (beta[:, None] * DwU)
    # tr W = -tr(W_k^T D P^T A Q Yhat W_k)
    trace = -float(np.sum(Dw * (y[:, None] * Sw)) - np.sum(DwU * ((QtV.T @ Sw).T * sv)))
    return RiskStatistics(gram, trace, frob2)


def risk_statistics(Y: np.ndarray, U: np.ndarray, sv: np.ndarray, V: np.ndarray, *, k: int,
                    skip: bool, reg: float = 0.0,
                    critical_set: Sequence[int] | None = None) -> RiskStatistics:
    """Risk statistics of the critical point ``W_I`` without forming any ``d x d`` matrix.

    Parameters
    ----------
    Y : ndarray, shape (d, N)
        Noisy training inputs ``X + A`` with ``X = U diag(sv) V^T``.
    U : ndarray, shape (d, r)
        Orthonormal left singular vectors of ``X``.
    sv : ndarray, shape (r,)
        Singular values of ``X``.
    V : ndarray, shape (N, r)
        Orthonormal right singular vectors of ``X``.
    k : int
        Bottleneck width.
    skip : bool
        Skip-connection model (target ``-A``) or not (target ``X``).
    reg : float
        Product regularization ``lambda >= 0``.
    critical_set : sequence of int, optional
        1-based ranks of the kept singular triplets; ``None`` is the global minimizer.

    Returns
    -------
    RiskStatistics
    """
    sv = np.asarray(sv, dtype=float)
    check_training_args(k, reg, critical_set, Y.shape[0])
    run = _skip if skip else _no_skip
    return run(Y, U, sv, V, k, reg, critical_set)
