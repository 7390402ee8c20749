"""The validated, immutable description of one denoising-autoencoder risk problem.

Conventions (docs/conventions.md §2–§6):

* ambient dimension ``d``, training samples ``n`` (N), aspect ratio ``c = d / n``;
* clean training data ``X = U diag(sv) V^T`` of rank ``r`` (``U``, ``V`` Haar), singular values
  ``sv`` sorted in decreasing order; equivalently per-sample energies ``energy = sv**2 / n``;
* noise entries ``N(0, eta2_train / d)`` (each noise column has squared norm about ``eta2_train``);
* per-direction test energies ``test_energy`` (``l_i``), by default the per-sample energies;
* bottleneck width ``k`` (or ``kappa = k / d``), skip connection or not, product regularization
  ``reg`` (lambda >= 0) and the critical point ``critical_set`` (1-based ranks of the kept
  singular triplets of ``M = T Y^T R^{-1/2}``; ``None`` is the global minimizer, the top ``k``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Problem"]


#: Range of the noise levels, squared singular values and SNRs ``sv**2 / eta2_train`` accepted.
#: The closed forms multiply and divide up to two such quantities (e.g. ``snr**2``,
#: ``eta2 * snr``, ``1 / (snr * eta2)``), so every factor in ``[1e-100, 1e100]`` keeps each
#: intermediate within ``[1e-200, 1e200]``, well inside the normal float64 range
#: ``[2.2e-308, 1.8e308]``. Outside it ``--finite-size`` hit ZeroDivisionError (1e-300) and
#: OverflowError (1e300), and ``sv = 1e200`` gave an infinite default test energy.
SCALE_MIN, SCALE_MAX = 1e-100, 1e100


def _is_real(value: Any) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)))


def _in_scale(name: str, value: float, allow_zero: bool = False) -> None:
    if allow_zero and value == 0:
        return
    if not SCALE_MIN <= value <= SCALE_MAX:
        zero = "0 or " if allow_zero else ""
        raise ValueError(f"{name} must be {zero}in [{SCALE_MIN:g}, {SCALE_MAX:g}] (the range "
                         f"where the float64 formulas are valid), got {value!r}")


def _finite_float(name: str, value: Any) -> float:
    if not _is_real(value):
        raise ValueError(f"{name} must be a real number (not str, bool or complex), "
                         f"got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return out


def _integer(name: str, value: Any, lo: int, hi: int | None = None, hi_name: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float, np.floating)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value) or value != int(value):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    out = int(value)
    if out < lo or (hi is not None and out > hi):
        upper = f"{hi_name}={hi}" if hi_name else (str(hi) if hi is not None else "inf")
        raise ValueError(f"{name} must be an integer in [{lo}, {upper}], got {out}")
    return out


def _spectrum(name: str, values: Any, *, positive: bool) -> np.ndarray:
    if isinstance(values, (set, frozenset, dict, str, bytes)):
        raise ValueError(f"{name} must be an ordered sequence of real numbers (list, tuple or "
                         f"array; sets are unordered), got {type(values).__name__}")
    raw = np.atleast_1d(np.asarray(values, dtype=object))
    if raw.ndim == 1:
        bad = [v for v in raw.tolist() if not _is_real(v)]
        if bad:
            raise ValueError(f"{name} must contain only real numbers (not str, bool or "
                             f"complex), got {bad[0]!r}")
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a one-dimensional sequence of real numbers, "
                         f"got {values!r}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional sequence, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values, got {arr.tolist()}")
    if positive and np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0 (drop zero directions), got {arr.tolist()}")
    if not positive and np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {arr.tolist()}")
    big = arr[arr > SCALE_MAX]
    small = arr[(arr > 0) & (arr < SCALE_MIN)]
    if big.size or small.size:
        value = float(big[0] if big.size else small[0])
        zero = "" if positive else "0 or "
        raise ValueError(f"{name} entries must be {zero}in [{SCALE_MIN:g}, {SCALE_MAX:g}] (the "
                         f"range where the float64 formulas are valid), got {value!r}")
    return arr


_FIELDS = ("d", "n", "sv", "test_energy", "eta2_train", "eta2_test", "k", "skip", "reg",
           "critical_set")
_REQUIRED = ("d", "n", "sv", "k")


@dataclass(frozen=True, init=False)
class Problem:
    """One linear-DAE risk problem: data spectrum, noise, architecture and critical point.

    Parameters
    ----------
    d : int
        Ambient dimension, ``d >= 1``.
    n : int, optional
        Number of training samples ``N >= 1``. Give exactly one of ``n`` and ``c``.
    c : float, optional
        Aspect ratio ``d / N > 0``; ``n`` is then ``round(d / c)``.
    sv : sequence of float, optional
        Singular values of the clean training matrix ``X`` (all > 0). Give exactly one of ``sv``
        and ``energy``. They are sorted in decreasing order (``test_energy`` follows along).
    energy : sequence of float, optional
        Per-sample energies ``e_i > 0``; ``sv = sqrt(n * e)`` ("per-sample" scaling).
    test_energy : sequence of float, optional
        Per-direction test energies ``l_i >= 0`` (diagonal of ``L L^T / N_t``), aligned with
        ``sv``/``energy`` as given. Default: the per-sample energies ``sv**2 / n``.
    eta2_train : float
        Training-noise level ``eta_trn^2 > 0`` (noise entries have variance ``eta2_train / d``).
    eta2_test : float
        Test-noise level ``eta_tst^2 >= 0``.
    k : int, optional
        Bottleneck width, ``1 <= k <= d``. Give exactly one of ``k`` and ``kappa``.
    kappa : float, optional
        Bottleneck ratio ``k / d`` in ``(0, 1]``; ``k = max(1, round(kappa * d))``.
    skip : bool
        ``True`` for the skip-connection model ``f(y) = (I + W2 W1) y``.
    reg : float
        Product-regularization strength ``lambda >= 0``.
    critical_set : sequence of int, optional
        1-based ranks (1 = largest singular value of ``M``) of the kept singular triplets;
        at most ``k`` of them, each at most ``r`` without skip and ``min(d, n)`` with skip.
        ``None`` selects the global minimizer (the top ``k``).

    Raises
    ------
    ValueError
        Naming the offending parameter and its valid range.
    """

    d: int
    n: int
    sv: tuple[float, ...]
    test_energy: tuple[float, ...]
    eta2_train: float
    eta2_test: float
    k: int
    skip: bool = False
    reg: float = 0.0
    critical_set: tuple[int, ...] | None = field(default=None)

    def __init__(
        self,
        d: int,
        n: int | None = None,
        *,
        c: float | None = None,
        sv: Sequence[float] | None = None,
        energy: Sequence[float] | None = None,
        test_energy: Sequence[float] | None = None,
        eta2_train: float = 1.0,
        eta2_test: float = 1.0,
        k: int | None = None,
        kappa: float | None = None,
        skip: bool = False,
        reg: float = 0.0,
        critical_set: Sequence[int] | None = None,
    ) -> None:
        d = _integer("d", d, 1)
        if (n is None) == (c is None):
            raise ValueError("give exactly one of n (number of samples) and c (= d / n)")
        if c is not None:
            c = _finite_float("c", c)
            if c <= 0:
                raise ValueError(f"c must be > 0, got {c}")
            n = max(1, round(d / c))
        n = _integer("n", n, 1)

        if (sv is None) == (energy is None):
            raise ValueError("give exactly one of sv (singular values) and energy (per-sample)")
        if sv is not None:
            svs = _spectrum("sv", sv, positive=True)
        else:
            svs = np.sqrt(n * _spectrum("energy", energy, positive=True))
        r = svs.size
        if r > min(d, n):
            raise ValueError(f"the rank r = len(sv) must be in [1, min(d, n)={min(d, n)}], got {r}")
        if test_energy is None:
            tes = svs**2 / n
        else:
            tes = _spectrum("test_energy", test_energy, positive=False)
            if tes.size != r:
                raise ValueError(
                    f"test_energy must have one entry per direction (r={r}), got {tes.size}"
                )
        order = np.argsort(-svs, kind="stable")
        svs, tes = svs[order], tes[order]

        eta2_train = _finite_float("eta2_train", eta2_train)
        if eta2_train <= 0:
            raise ValueError(f"eta2_train must be > 0, got {eta2_train}")
        _in_scale("eta2_train", eta2_train)
        eta2_test = _finite_float("eta2_test", eta2_test)
        if eta2_test < 0:
            raise ValueError(f"eta2_test must be >= 0, got {eta2_test}")
        _in_scale("eta2_test", eta2_test, allow_zero=True)
        for label, values in (("sv**2 (squared singular values)", svs**2),
                              ("test_energy", tes),
                              ("sv**2 / eta2_train (the SNRs)", svs**2 / eta2_train)):
            nz = values[values > 0]
            if nz.size and (nz.max() > SCALE_MAX or nz.min() < SCALE_MIN):
                bad = float(nz.max() if nz.max() > SCALE_MAX else nz.min())
                raise ValueError(f"{label} must be in [{SCALE_MIN:g}, {SCALE_MAX:g}] (the "
                                 f"range where the float64 formulas are valid), got {bad!r}")

        if (k is None) == (kappa is None):
            raise ValueError("give exactly one of k (bottleneck width) and kappa (= k / d)")
        if kappa is not None:
            kappa = _finite_float("kappa", kappa)
            if not 0 < kappa <= 1:
                raise ValueError(f"kappa must be in (0, 1], got {kappa}")
            k = max(1, round(kappa * d))
        k = _integer("k", k, 1, d, "d")

        if not isinstance(skip, (bool, np.bool_)):
            raise ValueError(f"skip must be True or False, got {skip!r}")
        reg = _finite_float("reg", reg)
        if reg < 0:
            raise ValueError(f"reg must be >= 0, got {reg}")
        _in_scale("reg", reg, allow_zero=True)

        if critical_set is not None:
            if isinstance(critical_set, (set, frozenset, dict, str, bytes)):
                raise ValueError("critical_set must be a list or tuple of 1-based ranks, got "
                                 f"{type(critical_set).__name__}")
            top = min(d, n) if skip else r
            ranks = [_integer("critical_set entry", i, 1, top, "min(d, n)" if skip else "r")
                     for i in np.atleast_1d(np.asarray(critical_set, dtype=object))]
            if len(ranks) == 0:
                raise ValueError("critical_set must not be empty (use None for the minimizer)")
            if len(set(ranks)) != len(ranks):
                raise ValueError(f"critical_set must not repeat an index, got {ranks}")
            if len(ranks) > k:
                raise ValueError(f"critical_set may hold at most k={k} indices, got {len(ranks)}")
            critical_set = tuple(sorted(ranks))

        set_ = object.__setattr__
        set_(self, "d", d)
        set_(self, "n", n)
        set_(self, "sv", tuple(float(x) for x in svs))
        set_(self, "test_energy", tuple(float(x) for x in tes))
        set_(self, "eta2_train", eta2_train)
        set_(self, "eta2_test", eta2_test)
        set_(self, "k", k)
        set_(self, "skip", bool(skip))
        set_(self, "reg", reg)
        set_(self, "critical_set", critical_set)

    # ---- derived quantities -------------------------------------------------------------
    @property
    def c(self) -> float:
        """Aspect ratio ``d / n``."""
        return self.d / self.n

    @property
    def r(self) -> int:
        """Rank of the clean training data."""
        return len(self.sv)

    @property
    def kappa(self) -> float:
        """Bottleneck ratio ``k / d``."""
        return self.k / self.d

    @property
    def sv_array(self) -> np.ndarray:
        """Singular values as a float array (decreasing)."""
        return np.array(self.sv)

    @property
    def energy(self) -> np.ndarray:
        """Per-sample energies ``sv**2 / n``."""
        return np.array(self.sv) ** 2 / self.n

    @property
    def test_energy_array(self) -> np.ndarray:
        """Per-direction test energies ``l_i`` as a float array."""
        return np.array(self.test_energy)

    @property
    def snr(self) -> np.ndarray:
        """Per-direction training SNR ``s_i = sv_i**2 / eta2_train``."""
        return np.array(self.sv) ** 2 / self.eta2_train

    @property
    def kept(self) -> tuple[int, ...]:
        """1-based ranks of the kept singular triplets (``critical_set`` or the top ``k``)."""
        if self.critical_set is not None:
            return self.critical_set
        top = min(self.d, self.n) if self.skip else self.r
        return tuple(range(1, min(self.k, top) + 1))

    # ---- copies and serialisation -------------------------------------------------------
    def replace(self, **changes: Any) -> Problem:
        """A new problem with some fields changed (same keywords as the constructor).

        ``c``, ``energy`` and ``kappa`` replace ``n``, ``sv`` and ``k`` respectively.
        """
        known = set(_FIELDS) | {"c", "energy", "kappa"}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"replace got unknown field(s) {unknown}; valid: {sorted(known)}")
        kwargs = self.to_dict()
        pairs = {"c": "n", "energy": "sv", "kappa": "k"}
        for alt, base in pairs.items():
            if alt in changes:
                kwargs.pop(base)
        if "sv" in changes or "energy" in changes:
            if "test_energy" not in changes:
                kwargs.pop("test_energy")
        kwargs.update(changes)
        return Problem(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON description; ``Problem(**p.to_dict()) == p``."""
        return {
            "d": self.d,
            "n": self.n,
            "sv": list(self.sv),
            "test_energy": list(self.test_energy),
            "eta2_train": self.eta2_train,
            "eta2_test": self.eta2_test,
            "k": self.k,
            "skip": self.skip,
            "reg": self.reg,
            "critical_set": None if self.critical_set is None else list(self.critical_set),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        ValueError
            If ``data`` is not a dict, lacks a required key or has an unknown one.
        """
        if not isinstance(data, dict):
            raise ValueError(f"Problem.from_dict needs a dict, got {type(data).__name__}")
        missing = [key for key in _REQUIRED if key not in data]
        unknown = sorted(set(data) - set(_FIELDS))
        if missing or unknown:
            raise ValueError(f"Problem.from_dict: missing key(s) {missing}, unknown key(s) "
                             f"{unknown}; expected the keys of Problem.to_dict(): "
                             f"{list(_FIELDS)}")
        return cls(**data)

    @classmethod
    def check(cls, obj: Any, name: str = "problem") -> Problem:
        """Return ``obj`` if it is a :class:`Problem`, else raise a TypeError naming ``name``.

        For the entry points that take a problem (``asymptotic_risk``, ``optimal_bottleneck``,
        ...), so that ``None`` or a dict gives a clear message instead of an AttributeError.
        """
        if not isinstance(obj, cls):
            raise TypeError(f"{name} must be a rmtrisk.Problem, got {type(obj).__name__} "
                            f"({obj!r:.60})")
        return obj

    @classmethod
    def default(cls) -> Problem:
        """The built-in example: the paper's setting at a size that runs in seconds.

        ``d = 400``, ``c = 2`` (N = 200), a rank-10 spectrum with geometrically decaying
        per-sample energies summing to 0.4096 (the paper's CIFAR-10 normalisation),
        ``eta_trn^2 = eta_tst^2 = 0.3``, bottleneck ``k = 5``.
        """
        weights = 0.7 ** np.arange(10)
        energy = 0.4096 * weights / weights.sum()
        return cls(d=400, n=200, energy=energy, eta2_train=0.3, eta2_test=0.3, k=5)
