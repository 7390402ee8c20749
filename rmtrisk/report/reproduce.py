"""The seed paper's Figures 2 and 3, recomputed: published formulas, corrected theory, and Monte
Carlo at every point.

Setting (the paper's CIFAR-10 experiments): d = 3072, rank r = 100, eta^2 = 0.3 for training and
test noise, N_t = 4500 held-out samples, data scaled so that ||X||_F^2 = 0.4096 N.

* Figure 2: no skip connection, k in {1, 10, 30, 50, 100} with I = {1..k}, N from 2048 to 3048.
* Figure 3: skip against no skip at k = 50, N from 2048 to 6144 (the underparameterized side
  c < 1 included, where the paper has only simulations).

The spectrum is that of a real data set: by default the natural-image patches of
:mod:`rmtrisk.report.natural_images` (CIFAR-10 itself may not be downloaded at run time), or
any data matrix. The theory curves are the ``d -> infinity`` limit and the published formulas
(c > 1 only); at the Monte Carlo points the finite-``d`` default (limit + O(r/d) interaction)
is given too. Two Monte Carlo estimates: the Gaussian model with this spectrum (Haar frames)
and training on the data's own rank-r matrix (its singular vectors; the first N training
samples).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..data_spectrum import DataSpectrum, data_spectrum
from ..montecarlo import monte_carlo_risk
from ..montecarlo.real_data import real_data_monte_carlo
from ..problem import Problem
from ..theory import asymptotic_risk

__all__ = ["FIGURES", "PaperSetting", "Point", "curve_problems", "figure_curves",
           "paper_spectrum", "point_estimates"]


@dataclass(frozen=True)
class PaperSetting:
    """The experiment of the seed paper's Figures 2 and 3."""

    d: int = 3072
    rank: int = 100
    eta2: float = 0.3
    n_test: int = 4500
    total_energy: float = 0.4096
    fig2_k: tuple[int, ...] = (1, 10, 30, 50, 100)
    fig2_n: tuple[int, int] = (2048, 3048)
    fig3_k: int = 50
    fig3_n: tuple[int, int] = (2048, 6144)


#: Seed of the permutation that picks the training subsets of :func:`paper_spectrum`.
SUBSET_SEED = 20250530

#: The figures reproduced.
FIGURES = ("figure2", "figure3")


def _curves(figure: str, setting: PaperSetting) -> list[tuple[str, int, bool]]:
    if figure == "figure2":
        return [(f"k = {k}", k, False) for k in setting.fig2_k]
    if figure == "figure3":
        return [("no skip", setting.fig3_k, False), ("skip", setting.fig3_k, True)]
    raise ValueError(f"figure must be one of {FIGURES}, got {figure!r}")


def _n_range(figure: str, setting: PaperSetting) -> tuple[int, int]:
    return setting.fig2_n if figure == "figure2" else setting.fig3_n


def paper_spectrum(train: np.ndarray, test: np.ndarray, setting: PaperSetting = PaperSetting(),
                   n: int | None = None, center: bool = False) -> DataSpectrum:
    """The spectrum of ``n`` training samples (all by default; a fixed random subset, nested in
    ``n``) and of the first ``setting.n_test`` held-out ones, truncated to ``setting.rank`` and
    scaled to ``setting.total_energy``."""
    if train.shape[0] != setting.d:
        raise ValueError(f"the data must have d = {setting.d} rows (32x32x3 images), got "
                         f"{train.shape[0]}")
    if test.shape[1] < setting.n_test:
        raise ValueError(f"need {setting.n_test} held-out samples, got {test.shape[1]}")
    n = train.shape[1] if n is None else n
    if not setting.rank <= n <= train.shape[1]:
        raise ValueError(f"n must be in [{setting.rank}, {train.shape[1]}], got {n}")
    # nested random subsets (a fixed permutation): the first n samples of a file or of the
    # built-in patches come from a few images only
    order = np.random.default_rng(SUBSET_SEED).permutation(train.shape[1])[:n]
    return data_spectrum(train[:, np.sort(order)], test[:, :setting.n_test], setting.rank,
                         center=center, total_energy=setting.total_energy)


def curve_problems(spectrum: DataSpectrum, setting: PaperSetting, k: int, skip: bool,
                   n_values: np.ndarray) -> list[Problem]:
    """One problem per training-set size, the spectrum's per-sample energies at every ``N``."""
    return [Problem(d=setting.d, n=int(n), energy=spectrum.energy.tolist(),
                    test_energy=spectrum.test_energy.tolist(), k=k, skip=skip,
                    eta2_train=setting.eta2, eta2_test=setting.eta2) for n in n_values]


@dataclass(frozen=True)
class Curves:
    """Theory curves of one figure: arrays of shape ``(curves, points)``."""

    figure: str
    labels: tuple[str, ...]
    k: tuple[int, ...]
    skip: tuple[bool, ...]
    n: np.ndarray
    c: np.ndarray
    corrected: dict[str, np.ndarray] = field(default_factory=dict)
    published: dict[str, np.ndarray] = field(default_factory=dict)


def figure_curves(figure: str, spectrum: DataSpectrum, setting: PaperSetting = PaperSetting(),
                  points: int = 61) -> Curves:
    """Corrected (``d -> infinity`` limit) and published curves over ``points`` sizes ``N``
    (published: c > 1 only, nan elsewhere; c = 1 at lambda = 0 is a divergence, inf)."""
    lo, hi = _n_range(figure, setting)
    n = np.unique(np.round(np.linspace(lo, hi, points)).astype(int))
    spec = _curves(figure, setting)
    corrected = {q: np.full((len(spec), n.size), np.nan) for q in ("risk", "bias", "variance")}
    published = {q: np.full((len(spec), n.size), np.nan) for q in ("risk", "bias", "variance")}
    for i, (_, k, skip) in enumerate(spec):
        for j, p in enumerate(curve_problems(spectrum, setting, k, skip, n)):
            res = asymptotic_risk(p, limit=True, throw=False)
            for q in corrected:
                corrected[q][i, j] = getattr(res, q)
            if p.d > p.n:
                pub = asymptotic_risk(p, "paper", throw=False)
                for q in published:
                    published[q][i, j] = getattr(pub, q)
    return Curves(figure, tuple(s[0] for s in spec), tuple(s[1] for s in spec),
                  tuple(s[2] for s in spec), n, setting.d / n, corrected, published)


@dataclass(frozen=True)
class Point:
    """Theory and Monte Carlo at one Monte Carlo point of a figure."""

    figure: str
    label: str
    k: int
    skip: bool
    n: int
    c: float
    limit: tuple[float, float, float]
    default: tuple[float, float, float]
    finite: tuple[float, float, float]
    published: tuple[float, float, float] | None
    gaussian: tuple[float, float, float, float, float, float] | None   # means and stderrs
    real: tuple[float, float, float, float, float, float] | None
    real_limit: tuple[float, float, float] | None   # theory of the first-N spectrum
    reps: int
    real_reps: int
    seed: int

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _triple(res) -> tuple[float, float, float]:
    return float(res.risk), float(res.bias), float(res.variance)


def _mc(res) -> tuple[float, float, float, float, float, float]:
    return (res.risk, res.bias, res.variance, res.stderr, res.bias_stderr, res.variance_stderr)


def point_estimates(figure: str, spectrum: DataSpectrum, n: int, *,
                    setting: PaperSetting = PaperSetting(), reps: int = 0, real_reps: int = 0,
                    seed: int = 0, real_spectrum: Callable[[int], DataSpectrum] | None = None,
                    workers: int = 1) -> list[Point]:
    """Theory and Monte Carlo of every curve of ``figure`` at training size ``n``.

    Parameters
    ----------
    figure : {"figure2", "figure3"}
    spectrum : DataSpectrum
        The curves' spectrum (the Gaussian-model Monte Carlo uses it).
    n : int
        Training samples.
    setting : PaperSetting
    reps : int
        Gaussian-model replicates (0: none).
    real_reps : int
        Noise draws on the data's own matrix (0: none); needs ``real_spectrum``.
    seed : int
        Root seed of both.
    real_spectrum : callable, optional
        ``n -> DataSpectrum`` of ``n`` training samples (:func:`paper_spectrum`).
    workers : int
        Processes for the Gaussian-model Monte Carlo.
    """
    out = []
    for label, k, skip in _curves(figure, setting):
        (p,) = curve_problems(spectrum, setting, k, skip, np.array([n]))
        limit = _triple(asymptotic_risk(p, limit=True, throw=False))
        default = _triple(asymptotic_risk(p, throw=False))
        finite = _triple(asymptotic_risk(p, finite_size=True, throw=False))
        published = _triple(asymptotic_risk(p, "paper", throw=False)) if p.d > p.n else None
        gaussian = real = real_limit = None
        if reps:
            gaussian = _mc(monte_carlo_risk(p, reps=reps, seed=seed, workers=workers))
        if real_reps:
            if real_spectrum is None:
                raise ValueError("real_reps needs real_spectrum")
            own = real_spectrum(n)
            real = _mc(real_data_monte_carlo(own, k=k, skip=skip, eta2_train=setting.eta2,
                                             eta2_test=setting.eta2, reps=real_reps,
                                             seed=seed))
            real_limit = _triple(asymptotic_risk(own.problem(
                k=k, skip=skip, eta2_train=setting.eta2, eta2_test=setting.eta2), throw=False))
        out.append(Point(figure, label, k, skip, int(n), setting.d / n, limit, default, finite,
                         published, gaussian, real, real_limit, reps, real_reps, seed))
    return out
