"""The shared symbol table of the closed forms that more than one regime module uses.

:data:`REG` holds the symbols of the ridge (:mod:`.ridge`) and skip ``c < 1``
(:mod:`.skip_under`) closed forms; each other regime module defines the table of its own
symbols next to its equations (:data:`.marchenko_pastur.SYMBOLS`, :data:`.skip.SKIP`,
:data:`.woodbury.WB`, :data:`.skip_ridge.SR`).
"""

from __future__ import annotations

from typing import NamedTuple

import sympy as sp

__all__ = ["REG", "RegimeSymbols"]


class RegimeSymbols(NamedTuple):
    """Symbols of the ridge and skip ``c < 1`` closed forms.

    Attributes
    ----------
    c, lam, t, kappa, theta
        Aspect ratio ``d/N``, regularization ``lambda / eta2_train``, training SNR
        ``sigma^2 / eta2_train``, bottleneck ratio ``k/d`` and noise-eigenvalue threshold.
    g, gprime
        Ridge resolvent moments ``int x/(x + lam) dmu`` and ``int x/(x + lam)^2 dmu``.
    pi0, pi1
        Kept overlaps ``u^T Pi u`` and ``u^T Lambda'^{-1} Pi u`` of one direction.
    Bk, Bd, V
        Ridge sums: ``sum_{kept} l_i b_i``, ``sum_{dropped} l_i``, ``sum_{kept} v_i``.
    G, F, Tr, Vp
        Skip sums: ``sum l_i Gamma_i``, ``sum frob_i``, ``sum tr_i``, ``sum v_i pi0_i``.
    eta2_test, d
        Test-noise level and ambient dimension.
    """

    c: sp.Symbol
    lam: sp.Symbol
    t: sp.Symbol
    kappa: sp.Symbol
    theta: sp.Symbol
    g: sp.Symbol
    gprime: sp.Symbol
    pi0: sp.Symbol
    pi1: sp.Symbol
    Bk: sp.Symbol
    Bd: sp.Symbol
    V: sp.Symbol
    G: sp.Symbol
    F: sp.Symbol
    Tr: sp.Symbol
    Vp: sp.Symbol
    eta2_test: sp.Symbol
    d: sp.Symbol


REG = RegimeSymbols(
    c=sp.Symbol("c", positive=True),
    lam=sp.Symbol("lam", nonnegative=True),
    t=sp.Symbol("t", positive=True),
    kappa=sp.Symbol("kappa", positive=True),
    theta=sp.Symbol("theta", positive=True),
    g=sp.Symbol("g", positive=True),
    gprime=sp.Symbol("gprime", positive=True),
    pi0=sp.Symbol("pi0", nonnegative=True),
    pi1=sp.Symbol("pi1", nonnegative=True),
    Bk=sp.Symbol("Bk", nonnegative=True),
    Bd=sp.Symbol("Bd", nonnegative=True),
    V=sp.Symbol("V", nonnegative=True),
    G=sp.Symbol("G", real=True),
    F=sp.Symbol("F", real=True),
    Tr=sp.Symbol("Tr", real=True),
    Vp=sp.Symbol("Vp", real=True),
    eta2_test=sp.Symbol("eta2_test", nonnegative=True),
    d=sp.Symbol("d", positive=True),
)
