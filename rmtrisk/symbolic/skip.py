"""Risk expressions of the skip-connection DAE with a proportional bottleneck ``k = kappa d``.

Regime: ``c = d / N > 1``, ``lambda = 0``, ``0 < kappa <= 1/c``. The formula was derived by
Woodbury per signal direction (docs/theory.md §2) and is transcribed here **exactly as derived**, in
one place, so that it can be corrected if the Monte Carlo checks disagree:

* ``mu`` is the law of the ``N x N`` Gram matrix ``A^T A`` of the training noise (entries
  ``N(0, eta2_train / d)``): Marchenko–Pastur with ``gamma = N/d = 1/c``, scale
  ``s = eta2_train`` (no atom). The bottleneck keeps the noise directions above ``theta`` with
  ``mu((theta, inf)) = kappa c`` (``= k / N``) and ``T = T_{-1}(theta)``.
* per direction ``i``: ``D_i = -(1/eta2_train + 1/sigma_i^2)``,
  ``q = c / ((c - 1) eta2_train)``, ``am1 = -(c - 1)/c``;
  ``Gamma_i = (1/D_i^2) [kappa / sigma_i^4 + am1^2 T / sigma_i^2]``;
* ``||W||_F^2 = k - sum_i [kappa q / D_i + (am1 / D_i) T]``,
  ``tr W = -k + sum_i (am1 / D_i) T``;
* ``variance = eta2_test ||W||_F^2 / d``,
  ``risk = sum_i l_i Gamma_i + eta2_test (d + 2 tr W + ||W||_F^2) / d``,
  ``bias = risk - variance``.

:func:`skip_direction_terms` and :func:`skip_aggregate` give the evaluation forms used by the
kernels: per-direction contributions and their derivatives in ``T`` (for error propagation),
and the aggregate written as ``eta2_test (1 - kappa)`` plus ``O(r/d)`` corrections, which is
algebraically identical to the transcription (see :func:`skip_identities`) but avoids the
cancellation ``d - 2k + k`` near ``c = 1``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import sympy as sp

from .kernel import KernelSpec
from .marchenko_pastur import MPLaw

__all__ = [
    "KERNELS",
    "latex_equations",
    "noise_gram_law",
    "SKIP",
    "skip_aggregate",
    "skip_direction_terms",
    "skip_fixed_k_moment",
    "skip_identities",
    "skip_transcribed",
    "SkipSymbols",
]


class SkipSymbols(NamedTuple):
    """Symbols of the proportional skip-connection risk.

    Attributes
    ----------
    c, kappa, eta2_train, eta2_test, d
        Aspect ratio, bottleneck ratio ``k/d``, noise levels and ambient dimension.
    sigma, ell
        Singular value and test energy of one signal direction.
    T
        Truncated moment ``T_{-1}(theta)`` of the noise Gram law above the threshold.
    G, F, Tr
        Sums over directions of ``l_i Gamma_i``, of the Frobenius contributions and of the
        trace contributions (see :func:`skip_direction_terms`).
    """

    c: sp.Symbol
    kappa: sp.Symbol
    eta2_train: sp.Symbol
    eta2_test: sp.Symbol
    d: sp.Symbol
    sigma: sp.Symbol
    ell: sp.Symbol
    T: sp.Symbol
    G: sp.Symbol
    F: sp.Symbol
    Tr: sp.Symbol


SKIP = SkipSymbols(
    c=sp.Symbol("c", positive=True),
    kappa=sp.Symbol("kappa", positive=True),
    eta2_train=sp.Symbol("eta2_train", positive=True),
    eta2_test=sp.Symbol("eta2_test", nonnegative=True),
    d=sp.Symbol("d", positive=True),
    sigma=sp.Symbol("sigma", positive=True),
    ell=sp.Symbol("ell", nonnegative=True),
    T=sp.Symbol("T", nonnegative=True),
    G=sp.Symbol("G", real=True),
    F=sp.Symbol("F", real=True),
    Tr=sp.Symbol("Tr", real=True),
)


def noise_gram_law() -> MPLaw:
    """Law of ``A^T A``: ``gamma = 1/c``, ``1 - gamma = (c - 1)/c`` (exact), ``s = eta2_train``."""
    c = SKIP.c
    return MPLaw(gamma=1 / c, gammabar=(c - 1) / c, s=SKIP.eta2_train)


def _direction_pieces() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(Gamma_i, frob_i, trace_i)`` as transcribed (``||W||_F^2 = k + sum frob_i``)."""
    c, kappa, eta2, sigma, T = SKIP.c, SKIP.kappa, SKIP.eta2_train, SKIP.sigma, SKIP.T
    D = -(1 / eta2 + 1 / sigma**2)
    q = c / ((c - 1) * eta2)
    am1 = -(c - 1) / c
    Gamma = (1 / D**2) * (kappa / sigma**4 + am1**2 * T / sigma**2)
    frob = -(kappa * q / D + (am1 / D) * T)
    trace = (am1 / D) * T
    return Gamma, frob, trace


@functools.cache
def skip_direction_terms() -> tuple[sp.Expr, ...]:
    """Per-direction contributions and their ``T``-derivatives.

    Returns
    -------
    tuple of sympy expressions in ``(sigma, kappa, c, eta2_train, T)``
        ``(Gamma, dGamma/dT, frob, dfrob/dT, trace, dtrace/dT)`` where
        ``||W||_F^2 = kappa d + sum_i frob_i`` and ``tr W = -kappa d + sum_i trace_i``.
    """
    T = SKIP.T
    out: list[sp.Expr] = []
    for piece in _direction_pieces():
        out += [piece, sp.diff(piece, T)]
    return tuple(out)


@functools.cache
def skip_aggregate() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(risk, bias, variance)`` from the sums ``G = sum l_i Gamma_i``, ``F``, ``Tr``.

    ``risk = G + eta2_test ((1 - kappa) + (2 Tr + F)/d)``,
    ``bias = G + eta2_test ((1 - 2 kappa) + 2 Tr / d)``,
    ``variance = eta2_test (kappa + F / d)``.
    """
    kappa, e2, d, G, F, Tr = SKIP.kappa, SKIP.eta2_test, SKIP.d, SKIP.G, SKIP.F, SKIP.Tr
    risk = G + e2 * ((1 - kappa) + (2 * Tr + F) / d)
    bias = G + e2 * ((1 - 2 * kappa) + 2 * Tr / d)
    variance = e2 * (kappa + F / d)
    return risk, bias, variance


def skip_transcribed() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(risk, bias, variance)`` literally as derived, in the sums ``G``, ``F``, ``Tr``."""
    kappa, e2, d, G, F, Tr = SKIP.kappa, SKIP.eta2_test, SKIP.d, SKIP.G, SKIP.F, SKIP.Tr
    k = kappa * d
    frob2 = k + F
    trace = -k + Tr
    variance = e2 * frob2 / d
    risk = G + e2 * (d + 2 * trace + frob2) / d
    return risk, risk - variance, variance


def skip_identities() -> tuple[sp.Expr, ...]:
    """Differences evaluation-form minus transcription (each simplifies to 0)."""
    pairs = zip(skip_aggregate(), skip_transcribed(), strict=True)
    return tuple(sp.simplify(x - y) for x, y in pairs)


def skip_fixed_k_moment() -> sp.Expr:
    """``kappa -> 0`` limit of ``T``: the kept eigenvalues sit at the upper edge.

    ``T -> kappa c / b = kappa c / (eta2_train (1 + 1/sqrt(c))^2)``, which turns the formula into
    the fixed-``k`` skip-connection risk.
    """
    c, kappa, eta2 = SKIP.c, SKIP.kappa, SKIP.eta2_train
    return kappa * c / (eta2 * (1 + 1 / sp.sqrt(c)) ** 2)


# ============================================================================================
# kernels (rendered into rmtrisk/_kernels.py by rmtrisk._codegen)
# ============================================================================================
KERNELS: tuple[KernelSpec, ...] = (
    KernelSpec("skip_direction_terms", (SKIP.sigma, SKIP.kappa, SKIP.c, SKIP.eta2_train, SKIP.T),
               skip_direction_terms,
               "(Gamma, dGamma/dT, frob, dfrob/dT, trace, dtrace/dT) of one signal direction."),
    KernelSpec("skip_aggregate", (SKIP.G, SKIP.F, SKIP.Tr, SKIP.kappa, SKIP.d, SKIP.eta2_test),
               skip_aggregate,
               "(risk, bias, variance) from the direction sums G, F, Tr."),
    KernelSpec("skip_fixed_k_moment", (SKIP.kappa, SKIP.c, SKIP.eta2_train),
               lambda: (skip_fixed_k_moment(),),
               "kappa -> 0 limit of T_{-1}: kappa c / (eta2_train (1 + 1/sqrt(c))^2)."),
)


# ============================================================================================
# LaTeX (docs/engine.md)
# ============================================================================================
def latex_skip_risk() -> dict[str, str]:
    """The per-direction terms and the aggregate of the proportional skip risk."""
    K = SKIP
    names = {K.eta2_train: r"\eta_{\mathrm{trn}}^2", K.eta2_test: r"\eta_{\mathrm{tst}}^2"}

    def tex(e: sp.Expr) -> str:
        return sp.latex(e, symbol_names=names)

    gamma_i, _, frob_i, _, trace_i, _ = skip_direction_terms()
    risk, bias, var = skip_aggregate()
    return {
        "law": (r"\mu = \mathrm{MP}\left(\gamma = 1/c,\ \bar{\gamma} = (c - 1)/c,\ s = "
                + names[K.eta2_train] + r"\right),\quad \mu((t_\star, \infty)) = \kappa c,"
                r"\quad T = T_{-1}(t_\star)"),
        "Gamma_i": r"\Gamma_i = " + tex(gamma_i),
        "frob_i": r"\|W\|_F^2 = \kappa d + \sum_i \left(" + tex(frob_i) + r"\right)",
        "trace_i": r"\operatorname{tr} W = -\kappa d + \sum_i " + tex(trace_i),
        "sums": r"G = \sum_i \ell_i \Gamma_i,\quad F = \|W\|_F^2 - \kappa d,\quad "
                r"\mathrm{Tr} = \operatorname{tr} W + \kappa d",
        "risk": r"\mathcal{R} = " + tex(risk),
        "bias": r"\mathrm{bias} = " + tex(bias),
        "variance": r"\mathrm{variance} = " + tex(var),
        "kappa_to_0": r"T \to " + tex(skip_fixed_k_moment()) + r"\quad(\kappa \to 0)",
    }


def latex_equations() -> dict[str, str]:
    """This regime's equations in LaTeX, by name."""
    return {f"skip_{k}": v for k, v in latex_skip_risk().items()}
