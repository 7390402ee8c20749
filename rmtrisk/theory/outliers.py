"""Where signal directions separate from the noise bulk (outlier emergence).

Two counts per cell:

* **without skip**: the signal directions whose singular value of ``Y = X + A`` leaves the bulk.
  With noise entries ``N(0, eta2_train / d)``, ``A = (eta / sqrt(c)) G`` with ``G`` of entries
  of variance ``1/N``, whose rank-one spikes ``theta`` separate when ``theta > c^(1/4)``
  (Benaych-Georges & Nadakuditi 2012, rectangular case, ratio ``c = d / N``). In the project's
  units ``theta = sqrt(c) sv / eta``, so direction ``i`` is an outlier when
  ``t_i = sv_i^2 / eta2_train > 1 / sqrt(c)`` (derived), at the singular value
  ``eta sqrt((1 + t) (1 + c t)) / sqrt(c t)`` above the edge ``eta (1 + 1/sqrt(c))``;
* **with skip and reg > 0**: the kept outlier eigenvalues of the matrix whose top-``k``
  eigenvectors the bottleneck keeps (:func:`rmtrisk.engine.skip_ridge_grid`, ``outliers``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import skip_ridge_grid

__all__ = ["outlier_map", "signal_outlier_count", "signal_outlier_value"]


def signal_outlier_count(c: Any, t: Any) -> np.ndarray:
    """Number of directions with ``t_i > 1/sqrt(c)`` per ``c`` (``t`` the SNRs at that ``c``,
    shape ``c.shape + (r,)``)."""
    c = np.asarray(c, dtype=float)
    return np.sum(np.asarray(t, dtype=float) > 1.0 / np.sqrt(c)[..., None], axis=-1)


def signal_outlier_value(c: float, t: float, eta2_train: float) -> float:
    """Limit of the singular value of ``Y`` of a direction with SNR ``t`` (the bulk edge
    ``eta (1 + 1/sqrt(c))`` when ``t <= 1/sqrt(c)``)."""
    eta = np.sqrt(eta2_train)
    if t * np.sqrt(c) <= 1.0:
        return float(eta * (1.0 + 1.0 / np.sqrt(c)))
    return float(eta * np.sqrt((1.0 + t) * (1.0 + c * t) / (c * t)))


def outlier_map(c: np.ndarray, reg: np.ndarray, *, d: int, kappa: float, eta2_train: float,
                eta2_test: float, sv: Any = None, energy: Any = None,
                test_energy: Any = None) -> dict[str, np.ndarray]:
    """Outlier counts over ``(reg[j], c[i])``.

    Parameters
    ----------
    c, reg : ndarray
        The axes (1-D); ``reg > 0``.
    d : int
        Ambient dimension.
    kappa : float
        Bottleneck ratio ``k / d`` (capped at ``1/c`` per cell).
    eta2_train, eta2_test : float
    sv, energy : array_like
        Singular values (fixed) or per-sample energies (``sv^2 = N e`` at each ``c``); one.
    test_energy : array_like, optional
        Test energies (default: the per-sample energies ``sv^2 / N``).

    Returns
    -------
    dict
        ``kept_skip`` (``(reg, c)`` ints, -1 where the solver did not succeed), ``status_skip``,
        ``signal_no_skip`` (per ``c``).
    """
    c = np.asarray(c, dtype=float)
    reg = np.asarray(reg, dtype=float)
    if (sv is None) == (energy is None):
        raise ValueError("give sv or energy")
    kept = np.full((reg.size, c.size), -1, dtype=int)
    status = np.zeros((reg.size, c.size), dtype=np.int8)
    snr = []
    for i, ci in enumerate(c):
        n = max(1, round(d / ci))
        s = (np.asarray(sv, dtype=float) if sv is not None
             else np.sqrt(n * np.asarray(energy, dtype=float)))
        ell = s**2 / n if test_energy is None else np.asarray(test_energy, dtype=float)
        res = skip_ridge_grid(ci, min(kappa, 1.0 / ci), reg, eta2_train, eta2_test, s, ell, d)
        ok = res.success
        kept[:, i] = np.where(ok, res.outliers, -1)
        status[:, i] = res.status
        snr.append(s**2 / eta2_train)
    return {"kept_skip": kept, "status_skip": status,
            "signal_no_skip": signal_outlier_count(c, np.array(snr))}
