"""O(1/d) fluctuation correction of the skip-connection bias, c = d/N < 1, lambda = 0.

Derivation and Monte Carlo comparison: ``docs/skip_under.md``, section "Finite size
(fluctuations)". Units ``eta_trn = 1`` (``s_i = sv_i / eta_trn``), ``kappa = k/d < 1``.

**Exact reduction.** With ``B' = [A V, U]``, ``Q' = (A A^T)^{-1}`` and

    M = [[-I + Ka, S^{-1} + Kc], [S^{-1} + Kc^T, Kq]],
    Ka = V^T A^T Q' A V,   Kc = V^T A^T Q' U,   Kq = U^T Q' U,

Woodbury gives exactly ``G := B U = I - (M^{-1})_{21} S^{-1}`` and
``D = S V^T (I - H) V S = (M^{-1})_{22}``. The kept overlap matrix ``P = U^T Pi_k U`` is the
kept part of the spectral measure of ``U^T (Lambda - U D U^T - z)^{-1} U = (R(z)^{-1} - D)^{-1}``
with ``R(z) = U^T (Lambda - z)^{-1} U`` (``Lambda = A A^T``), so

    P = int_theta^b (1/pi) Im (R(x + i0)^{-1} - D)^{-1} dx,
    sum_i l_i ||W u_i||^2 = tr(L (I - G)^T P (I - G))          (W U = -Pi_k U (I - G)).

**Fluctuations.** ``Ka -> c I``, ``Kc -> 0``, ``Kq = R(0) -> q I``, ``R(z) -> m(z) I`` (``m``
the Stieltjes transform of the Marchenko-Pastur law of ``A A^T``: ratio ``c``, scale ``1/c``;
``q = m(0) = c/(1 - c)``). Centred, asymptotically Gaussian fluctuations with covariances
(index factor ``d_ik d_jl + d_il d_jk`` for the symmetric ``Ka``, ``R``; ``d_ik d_jl`` for
``Kc``)

    Ka: c (1 - c)/N,    Kc: q/N,
    R(z), R(w): C(z, w) = [(m(z) - m(w))/(z - w) - m(z) m(w)] / d,     (Kq = R(0)),

and no correlation between ``Ka``, ``Kc`` and ``R`` at this order. Split
``R(z) - m(z) I = rho(z) (Kq - q I) + E_perp(z)`` with ``rho(z) = C(z, 0)/C(0, 0)`` and
``E_perp`` independent of ``Kq`` (covariance ``C_perp(z, z) = C(z, z) - C(z, 0)^2/C(0, 0)``).
The expectation of the exact map ``f(Ka, Kc, Kq)`` (with ``R(z) = m(z) I + rho(z)(Kq - q I)``)
is taken to second order by central differences along the independent coordinates (as in
:mod:`rmtrisk.theory.corrections.interaction`); ``E_perp`` enters only ``P``, at second order
through
``T E D T E T`` (``T = (I - D m)^{-1}``):

    E p2_ii = int_theta^b (1/pi) Im[ T_i^2 sum_j delta_j T_j (1 + d_ij) C_perp(x, x) ] dx,

weighted by ``l_i (1 - beta_i)^2``. The O(1/d) mean shifts are added at first order:
``E Kq = d/(N - d - 1) I`` exactly (through ``G`` and ``D``) and
``E R(z) = m(z) + mu1(z)/d`` (real-Gaussian Bai-Silverstein correction,
:func:`real_gaussian_mean_shift`) on the kept region, through a contour integral around
``[theta, b]`` (``mu1`` has poles at the edges). Omitted: the fluctuation of the kept threshold
(count versus level, about ``0.09/d`` at c = 0.8, kappa = 0.3) and the correction of
``||W||_F^2`` (the variance).
"""

from __future__ import annotations

import numpy as np

from ...engine import stieltjes, threshold
from ...problem import Problem
from .quadrature import gauss_legendre

__all__ = ["real_gaussian_mean_shift", "skip_fluctuation_components",
           "skip_fluctuation_correction"]

_REL_STEP = 1e-3
_NODES = 300


def _resolvent(z, c: float) -> tuple[np.ndarray, np.ndarray]:
    """``(m(z), m'(z))`` of the law of ``A A^T`` (ratio ``c``, scale ``1/c``): the engine's
    :func:`rmtrisk.engine.stieltjes` (real ``z`` on the support gives ``m(x + i0)``)."""
    res = stieltjes(z, c, 1.0 / c)
    return np.asarray(res.m), np.asarray(res.dm)


def _kept_grid(c: float, kappa: float, nodes: int) -> dict[str, np.ndarray | float]:
    """Gauss-Legendre nodes on ``[theta, b]`` in ``x = b - (b - theta) s^2`` (edge singularity)."""
    b = (1.0 + np.sqrt(c)) ** 2 / c
    theta = float(threshold(c, kappa, 1.0 / c).threshold)
    sn, sw = gauss_legendre(nodes)
    sn, sw = 0.5 * (sn + 1.0), 0.5 * sw
    x = b - (b - theta) * sn**2
    wx = sw * 2.0 * (b - theta) * sn
    m, mp = _resolvent(x + 0j, c)
    return dict(theta=theta, x=x, w=wx, m=m, mp=mp)


def _signal_map(ka, kc, kq, sv, ell, grid, q, rho):
    """Exact ``tr(L (I - G)^T P (I - G))`` from the quadratic forms; also ``(P, G, D)``."""
    r = sv.size
    eye = np.eye(r)
    m = np.block([[-eye + ka, np.diag(1.0 / sv) + kc], [np.diag(1.0 / sv) + kc.T, kq]])
    minv = np.linalg.inv(m)
    g = eye - minv[r:, :r] / sv[None, :]
    dd = 0.5 * (minv[r:, r:] + minv[r:, r:].T)
    res = grid["m"][:, None, None] * eye[None] + rho[:, None, None] * (kq - q * eye)[None]
    f = np.linalg.inv(np.linalg.inv(res) - dd[None])
    p = np.einsum("n,nij->ij", grid["w"], f.imag) / np.pi
    e = eye - g
    return float(np.einsum("i,ji,jk,ki->", ell, e, p, e)), p, g, dd


def _signal_map_stack(ka, kc, kq, sv, ell, grid, q, rho) -> np.ndarray:
    """:func:`_signal_map` (value only) for stacks of subsystems: ``ka, kc, kq`` of shape
    ``(p, p)`` shared, ``sv, ell`` of shape ``(pairs, p)``; returns shape ``(pairs,)``."""
    p = ka.shape[-1]
    eye = np.eye(p)
    inv_sv = 1.0 / sv                                         # (pairs, p)
    s_inv = inv_sv[:, None, :] * eye                          # (pairs, p, p)
    top = np.concatenate(np.broadcast_arrays(-eye + ka, s_inv + kc), axis=-1)
    low = np.concatenate(np.broadcast_arrays(s_inv + kc.T, kq), axis=-1)
    minv = np.linalg.inv(np.concatenate([top, low], axis=-2))
    g = eye - minv[:, p:, :p] * inv_sv[:, None, :]
    dd = 0.5 * (minv[:, p:, p:] + np.swapaxes(minv[:, p:, p:], -1, -2))
    res = grid["m"][:, None, None] * eye + rho[:, None, None] * (kq - q * eye)   # (nodes, p, p)
    f = np.linalg.inv(np.linalg.inv(res)[None] - dd[:, None])                  # (pairs, nodes)
    proj = np.einsum("n,anij->aij", grid["w"], f.imag) / np.pi
    e = eye - g
    return np.einsum("ai,aji,ajk,aki->a", ell, e, proj, e)


def _subsystem_entries(p: int):
    """Per block, the entries of the coordinates that couple all of a ``p``-direction
    subsystem, with the index factor of their variance."""
    if p == 1:
        return (("Ka", [((0, 0), 2.0)]), ("Kc", [((0, 0), 1.0)]), ("Kq", [((0, 0), 2.0)]))
    return (("Ka", [((0, 1), 1.0)]), ("Kc", [((0, 1), 1.0), ((1, 0), 1.0)]),
            ("Kq", [((0, 1), 1.0)]))


def _kept_contour(c: float, theta: float, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Counter-clockwise rectangle around ``[theta, b]`` crossing the support only at ``theta``.

    Returns nodes ``z`` and weights ``dz`` (Gauss-Legendre per side) with
    ``u^T Pi u ~ -(1/(2 pi i)) sum dz F(z)``.
    """
    b = (1.0 + np.sqrt(c)) ** 2 / c
    far, height = b + 1.0, 1.0
    g, w = gauss_legendre(nodes)
    corners = [theta - 1j * height, far - 1j * height, far + 1j * height, theta + 1j * height,
               theta + 1e-15j]
    zs, dzs = [], []
    for z0, z1 in zip(corners[:-1], corners[1:], strict=True):
        zs.append(z0 + (z1 - z0) * (g + 1.0) / 2.0)
        dzs.append(w * (z1 - z0) / 2.0)
    zs.append(theta - 1e-15j + (-1j * height + 1e-15j) * (g + 1.0) / 2.0)
    dzs.append(w * (-1j * height + 1e-15j) / 2.0)
    return np.concatenate(zs), np.concatenate(dzs)


def real_gaussian_mean_shift(z, c: float) -> np.ndarray:
    """``mu1(z)``: ``E (1/d) tr (A A^T - z)^{-1} = m(z) + mu1(z)/d + O(d^-2)`` (real Gaussian).

    Bai-Silverstein real-case mean correction, ``(f(a) + f(b))/4 - (1/(2 pi)) int_a^b
    f(x) / sqrt((b - x)(x - a)) dx`` with ``f = 1/(x - z)``; ``mu1(0) = c^2/(1 - c)^2``, the
    expansion of the exact ``E (1/d) tr (A A^T)^{-1} = d/(N - d - 1)``.
    """
    a, b = (1.0 - np.sqrt(c)) ** 2 / c, (1.0 + np.sqrt(c)) ** 2 / c
    z = np.asarray(z, dtype=complex)
    s = np.sqrt(z - a + 0j) * np.sqrt(z - b + 0j)
    return 0.25 * (1.0 / (a - z) + 1.0 / (b - z)) + 0.5 / s


def skip_fluctuation_components(problem: Problem, nodes: int = _NODES) -> dict[str, float]:
    """Second-order contributions to ``sum_i l_i ||W u_i||^2`` by source (module docstring).

    Keys ``"Ka"``, ``"Kc"``, ``"Kq"`` (the coordinate through ``Kq``, which also moves
    ``R(z)`` on the kept region by ``rho(z) dKq``), ``"perp"`` (the part of ``R(z)``
    independent of ``Kq``), ``"mean_Kq"``, ``"mean_R"`` (the O(1/d) mean shifts) and
    ``"base"`` (the leading-order value, equal to ``sum_i l_i pi0_i/(1 + c t_i)^2``). Zero
    corrections for ``k = d``.
    """
    d, n = problem.d, problem.n
    if not (problem.skip and problem.reg == 0 and d < n):
        raise ValueError("skip_fluctuation covers the skip connection, lambda = 0, d < N")
    c = d / n
    kappa = problem.k / d
    sv = problem.sv_array / np.sqrt(problem.eta2_train)
    ell = problem.test_energy_array
    r = sv.size
    t = sv**2
    if kappa >= 1.0:
        base = float(np.sum(ell / (1.0 + c * t) ** 2))
        return dict(base=base, Ka=0.0, Kc=0.0, Kq=0.0, perp=0.0, mean_Kq=0.0, mean_R=0.0)
    grid = _kept_grid(c, kappa, nodes)
    q = c / (1.0 - c)
    q2 = c * c / (1.0 - c) ** 3
    c00 = (q2 - q * q) / d
    m, mp, x = grid["m"], grid["mp"], grid["x"]
    cz0 = ((m - q) / x - m * q) / d
    czz = (mp - m * m) / d
    rho = cz0 / c00
    cperp = czz - cz0**2 / c00
    k0 = [c * np.eye(r), np.zeros((r, r)), q * np.eye(r)]
    base, _, g0, d0 = _signal_map(*k0, sv, ell, grid, q, rho)
    out = dict(base=base)
    variances = {"Ka": c * (1.0 - c) / n, "Kc": q / n, "Kq": c00}
    # The means are block diagonal per direction, so a coordinate at entry (i, j) moves only
    # the subsystem {i, j}: the second differences are taken on 1- and 2-direction systems
    # (exact), all subsystems of one size in one batched call.
    second = {name: 0.0 for name in variances}
    pairs = [np.arange(r)[:, None]] + ([np.stack(np.triu_indices(r, 1), axis=-1)]
                                       if r > 1 else [])
    for idx in pairs:
        p = idx.shape[1]
        at0 = _signal_map_stack(*(k[:p, :p] for k in k0), sv[idx], ell[idx], grid, q, rho)
        for name, entries in _subsystem_entries(p):
            blk = ("Ka", "Kc", "Kq").index(name)
            for (a, b), factor in entries:
                var = variances[name] * factor
                step = _REL_STEP * np.sqrt(var)
                vals = []
                for sgn in (1.0, -1.0):
                    ks = [k0[0][:p, :p].copy(), k0[1][:p, :p].copy(), k0[2][:p, :p].copy()]
                    ks[blk][a, b] += sgn * step
                    if name != "Kc" and a != b:
                        ks[blk][b, a] += sgn * step
                    vals.append(_signal_map_stack(*ks, sv[idx], ell[idx], grid, q, rho))
                second[name] += float(np.sum(0.5 * var * (vals[0] + vals[1] - 2.0 * at0)
                                             / step**2))
    out.update(second)
    delta = np.diag(d0)
    tt = 1.0 / (1.0 - delta[None, :] * m[:, None])
    s = (tt * delta[None, :]).sum(axis=1)
    ep2 = np.array([float(np.sum(grid["w"] * (tt[:, i] ** 2 * (s + delta[i] * tt[:, i])
                                                 * cperp).imag)) / np.pi for i in range(r)])
    out["perp"] = float(np.sum(ell * (1.0 - np.diag(g0)) ** 2 * ep2))
    # O(1/d) mean shifts: E Kq = d/(N - d - 1) exactly (through G and D), and
    # E R(z) = m(z) + mu1(z)/d on the kept contour (first order in P)
    q_exact = d / (n - d - 1.0)
    k_mean = [k0[0], k0[1], q_exact * np.eye(r)]
    out["mean_Kq"] = _signal_map(*k_mean, sv, ell, grid, q, 0.0 * rho)[0] - base
    zc, dz = _kept_contour(c, grid["theta"], nodes)
    mc_, _ = _resolvent(zc, c)
    shift = real_gaussian_mean_shift(zc, c) / d
    dp = np.array([-complex(np.sum(dz * shift / (1.0 - delta[i] * mc_) ** 2)) / (2j * np.pi)
                   for i in range(r)]).real
    out["mean_R"] = float(np.sum(ell * (1.0 - np.diag(g0)) ** 2 * dp))
    return {key: float(val) for key, val in out.items()}


def skip_fluctuation_correction(problem: Problem, nodes: int = _NODES) -> float:
    """O(1/d) correction of ``sum_i l_i ||W u_i||^2`` (hence of the bias and the risk).

    To be added to the leading-order bias of :func:`rmtrisk.theory.skip_under.skip_under_risk`
    (``finite_size=False``); the variance is left unchanged.
    """
    comp = skip_fluctuation_components(problem, nodes)
    return sum(val for key, val in comp.items() if key != "base")
