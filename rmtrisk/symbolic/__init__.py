"""Symbolic layer: sympy derivations of the Marchenko–Pastur law and the risk expressions.

* :mod:`.marchenko_pastur` — Stieltjes equation and physical root, edges, density, tail mass and
  closed-form truncated moments;
* :mod:`.risk` — the proportional-bottleneck skip-connection risk expressions;
* :mod:`.woodbury` — the per-direction Woodbury derivation of the paper-regime closed forms
  (one-layer bias/variance factors for c > 1 and c < 1, fixed-``k`` skip connection);
* :mod:`.regimes` — the ridge (no skip, ``lambda > 0``) and skip ``c < 1`` closed forms;
* :mod:`.latex` — LaTeX strings of every derived equation;
* :mod:`.codegen` — renders the expressions into the numba module ``rmtrisk/_kernels.py``
  (``python -m rmtrisk.symbolic.codegen``) and into mpmath functions.
"""

from __future__ import annotations

from . import latex, marchenko_pastur, regimes, risk, woodbury
from .marchenko_pastur import SYMBOLS, MPLaw

__all__ = ["MPLaw", "SYMBOLS", "latex", "marchenko_pastur", "regimes", "risk", "woodbury"]
