"""``rmtrisk reproduce``: the seed paper's Figures 2 and 3 with a Markdown report (I/O only; the
computations are :mod:`rmtrisk.report.reproduce`)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from . import __version__
from .data_spectrum import DataSpectrum, power_law_fit, split_samples
from .report.data import SAMPLE_AXES, load_matrix
from .report.natural_images import natural_image_patches
from .report.paper_figures import reproduced_figure
from .report.reproduce import (
    FIGURES,
    PaperSetting,
    Point,
    figure_curves,
    paper_spectrum,
    point_estimates,
)
from .serialize import strict_json_value
from .verification import ResultStore

__all__ = ["SETTING", "add_reproduce_command", "cache_dir"]

#: The experiment reproduced (a module attribute, so that tests can run it small).
SETTING = PaperSetting()


def cache_dir() -> Path:
    """Where computed spectra are kept between runs: ``$RMTRISK_CACHE``, else
    ``$XDG_CACHE_HOME/rmtrisk`` or ``~/.cache/rmtrisk``."""
    if os.environ.get("RMTRISK_CACHE"):
        return Path(os.environ["RMTRISK_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rmtrisk"


_ARRAYS = ("energy", "test_energy", "test_gram", "U", "sv", "V")


def _cached(key: dict[str, Any], compute: Callable[[], DataSpectrum]) -> DataSpectrum:
    """``compute()``, kept in the cache under a hash of ``key`` (a spectrum of the built-in
    images at d = 3072 costs 10-60 s; reloading it 0.1 s)."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    path = cache_dir() / f"spectrum-{digest}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                return DataSpectrum(*(z[name] for name in _ARRAYS), bool(z["centered"]),
                                    float(z["scale"]))
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache file is recomputed
    spectrum = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, **{name: getattr(spectrum, name) for name in _ARRAYS},
                 centered=spectrum.centered, scale=spectrum.scale)
        os.replace(tmp, path)
    except OSError:  # a read-only home: no cache, same result
        pass
    return spectrum


def _data(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    if args.data is None:
        train, test = natural_image_patches()
        return train, test, {"source": "natural-images", "patches": 1}
    if args.samples_as is None:
        raise ValueError("--data FILE needs --samples-as rows|columns")
    matrix = load_matrix(args.data, samples_as=args.samples_as, key=args.data_key)
    setting = SETTING
    if matrix.shape[1] <= setting.n_test + setting.rank:
        raise ValueError(f"--data needs more than {setting.n_test + setting.rank} samples "
                         f"({setting.n_test} are held out), got {matrix.shape[1]}")
    train, test = split_samples(matrix, setting.n_test, seed=args.data_seed)
    stat = Path(args.data).stat()
    return train, test, {"source": str(Path(args.data).resolve()), "size": stat.st_size,
                         "mtime": stat.st_mtime, "seed": args.data_seed,
                         "samples_as": args.samples_as, "key": args.data_key}


def _mc_sizes(figure: str, setting: PaperSetting, count: int, available: int) -> list[int]:
    lo, hi = (setting.fig2_n if figure == "figure2" else setting.fig3_n)
    hi = min(hi, available)
    sizes = np.unique(np.round(np.linspace(lo, hi, count)).astype(int)).tolist()
    return [n for n in sizes if abs(n - setting.d) > 1]  # c = 1: no estimate of anything


def _fmt(x: float | None, digits: int = 4) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.{digits}g}"


def _z(est: tuple | None, theory: tuple | None) -> str:
    if est is None or theory is None or not est[3] > 0:
        return "—"
    return f"{(est[0] - theory[0]) / est[3]:+.1f}"


def _report(figures: dict[str, tuple[Any, list[Point]]], meta: dict[str, Any]) -> str:
    lines = ["# The seed paper's Figures 2 and 3, recomputed", "",
             f"Command: `{' '.join(meta['command'])}` (rmtrisk {meta['version']}).", "",
             "Setting: d = 3072, rank r = 100, η² = 0.3 (training and test), N_t = 4500 "
             "held-out samples, ‖X‖²_F = 0.4096 N. Spectrum: "
             f"{meta['data']['source']} (power-law fit of the energies: e_i ∝ i^-α with "
             f"α = {meta['alpha']:.2f} over ranks 2-100).", "",
             "Curves: the corrected theory is the d → ∞ limit; the published formula is drawn "
             "for c > 1 only (where it is defined). At every Monte Carlo point the table adds "
             "the default theory at d = 3072 (limit + O(r/d) interaction of the signal "
             "directions) and every derived finite-d term (`--finite-size`); z = (Monte Carlo "
             "- theory) / SE. Standard errors from fewer than about 10 replicates are rough, "
             "and next to c = 1 (|d - N| comparable to r) the risk of a draw is heavy-tailed "
             "and the finite-d expansions lose their footing: read those rows with care.", ""]
    for name, (_, points) in figures.items():
        lines += [f"## {name.replace('figure', 'Figure ')}", "", f"![{name}]({name}.png)", ""]
        if not points:
            lines += ["(No Monte Carlo points: rerun with --mc-reps or --real-reps.)", ""]
            continue
        lines += ["| curve | N | c | published | corrected limit | default (d = 3072) | "
                  "finite size | MC Gaussian ± SE | z published | z default | z finite | "
                  "MC data's matrix ± SE | its theory | z |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for p in points:
            g = (f"{_fmt(p.gaussian[0])} ± {_fmt(p.gaussian[3], 2)}" if p.gaussian else "—")
            r = (f"{_fmt(p.real[0])} ± {_fmt(p.real[3], 2)}" if p.real else "—")
            lines.append(
                f"| {p.label} | {p.n} | {p.c:.3f} | {_fmt(p.published[0] if p.published else None)}"
                f" | {_fmt(p.limit[0])} | {_fmt(p.default[0])} | {_fmt(p.finite[0])} | {g} | "
                f"{_z(p.gaussian, p.published)} | {_z(p.gaussian, p.default)} | "
                f"{_z(p.gaussian, p.finite)} | {r} | "
                f"{_fmt(p.real_limit[0] if p.real_limit else None)} | "
                f"{_z(p.real, p.real_limit)} |")
        pub = [(p, (p.gaussian[0] - p.published[0]) / p.gaussian[3]) for p in points
               if p.gaussian and p.published and p.gaussian[3] > 0]
        if pub:
            worst, z = max(pub, key=lambda t: abs(t[1]))
            rel = abs(worst.published[0] / worst.gaussian[0] - 1)
            lines += ["", f"Largest miss of the published formula: {worst.label} at "
                          f"N = {worst.n} (c = {worst.c:.3f}), {abs(z):.1f} standard errors "
                          f"({100 * rel:.1f} % of the Monte Carlo risk)."]
        lines.append("")
    return "\n".join(lines)


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Run ``rmtrisk reproduce``."""
    setting = SETTING
    figures = FIGURES if args.figure == "all" else (f"figure{args.figure}",)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    print("spectrum of the data (cached after the first run) ...", file=sys.stderr)
    train, test, source = _data(args)
    base_key = {**source, "d": setting.d, "rank": setting.rank, "n_test": setting.n_test,
                "energy": setting.total_energy, "center": args.center}
    spectrum = _cached({**base_key, "n": "all"},
                       lambda: paper_spectrum(train, test, setting, center=args.center))
    alpha, _ = power_law_fit(spectrum.energy, first=2)

    def own(n: int) -> DataSpectrum:
        return _cached({**base_key, "n": n},
                       lambda: paper_spectrum(train, test, setting, n=n, center=args.center))

    store = ResultStore(out / "points.jsonl")
    results: dict[str, tuple[Any, list[Point]]] = {}
    for figure in figures:
        curves = figure_curves(figure, spectrum, setting, points=args.points)
        points: list[Point] = []
        if args.mc_reps or args.real_reps:
            sizes = _mc_sizes(figure, setting, args.mc_points, train.shape[1])
            for n in tqdm(sizes, desc=f"{figure} Monte Carlo points", unit="point",
                          file=sys.stderr):
                key = json.dumps([figure, n, args.mc_reps, args.real_reps, source["source"],
                                  args.center])
                row = store.finished(key, args.mc_reps + args.real_reps, args.seed)
                if row is None:
                    found = point_estimates(figure, spectrum, n, setting=setting,
                                            reps=args.mc_reps, real_reps=args.real_reps,
                                            seed=args.seed, real_spectrum=own,
                                            workers=args.workers)
                    row = {"key": key, "reps": args.mc_reps + args.real_reps,
                           "seed": args.seed, "points": [p.to_dict() for p in found]}
                    store.append(strict_json_value(row))
                points += [Point(**{f: tuple(v) if isinstance(v, list) else v
                                    for f, v in p.items()}) for p in row["points"]]
        fig = reproduced_figure(curves, points, title=(
            "Figure 2: no skip connection, I = {1..k}" if figure == "figure2"
            else "Figure 3: skip connection against none, k = 50"))
        for ext in ("png", "svg"):
            fig.savefig(out / f"{figure}.{ext}", dpi=130)
        rows = ["curve,k,skip,n,c,quantity,corrected,published"]
        for i, label in enumerate(curves.labels):
            for q in ("risk", "bias", "variance"):
                for j, n in enumerate(curves.n):
                    vals = [curves.corrected[q][i, j], curves.published[q][i, j]]
                    rows.append(f"{label},{curves.k[i]},{curves.skip[i]},{n},{curves.c[j]!r},{q},"
                                + ",".join("" if not np.isfinite(v) else repr(float(v))
                                           for v in vals))
        (out / f"{figure}.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        results[figure] = (curves, points)
    meta = {"command": ["rmtrisk", *args.argv], "version": __version__, "data": source,
            "alpha": alpha, "setting": setting.__dict__, "mc_reps": args.mc_reps,
            "real_reps": args.real_reps, "seed": args.seed, "energy": spectrum.energy.tolist(),
            "test_energy": spectrum.test_energy.tolist()}
    (out / "reproduce.meta.json").write_text(
        json.dumps(strict_json_value(meta), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    (out / "report.md").write_text(_report(results, meta) + "\n", encoding="utf-8")
    print(f"wrote {out}/report.md, " + ", ".join(f"{f}.png/.svg/.csv" for f in figures),
          file=sys.stderr)
    return 0


def add_reproduce_command(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Add ``rmtrisk reproduce`` through ``add(name, help)``."""
    rep = add("reproduce", "the seed paper's Figures 2 and 3 (test error, variance, bias "
                           "against c) with the published formulas, the corrected theory and "
                           "Monte Carlo points, and a Markdown report of where the published "
                           "curves are off")
    rep.add_argument("--figure", choices=["2", "3", "all"], default="all",
                     help="2: no skip, k in {1,10,30,50,100}, N 2048..3048; 3: skip against "
                          "no skip at k = 50, N 2048..6144 (default all)")
    rep.add_argument("--mc-reps", type=int, default=0,
                     help="Gaussian-model Monte Carlo replicates per point (default 0: curves "
                          "only; each replicate at d = 3072 takes seconds)")
    rep.add_argument("--real-reps", type=int, default=0,
                     help="noise draws per point training on the data's own rank-100 matrix "
                          "(the first N training samples; default 0)")
    rep.add_argument("--mc-points", type=int, default=5,
                     help="training-set sizes with Monte Carlo points per figure (default 5)")
    rep.add_argument("--points", type=int, default=61, help="curve points (default 61)")
    rep.add_argument("--seed", type=int, default=0, help="Monte Carlo root seed (default 0)")
    rep.add_argument("--workers", type=int, default=1,
                     help="processes for the Gaussian-model Monte Carlo (default 1)")
    rep.add_argument("--data", metavar="FILE",
                     help="a data matrix with d = 3072 (e.g. a CIFAR-10 python batch, "
                          "data_batch_1) instead of the built-in natural-image patches "
                          "(scikit-image's photographs)")
    rep.add_argument("--samples-as", choices=SAMPLE_AXES,
                     help="one sample per row or column of FILE (rows for CIFAR-10)")
    rep.add_argument("--data-key", help="array name inside an .npz")
    rep.add_argument("--data-seed", type=int, default=0,
                     help="seed of the split of FILE into 4500 held-out and training samples")
    rep.add_argument("--center", action="store_true", help="subtract the training mean")
    rep.add_argument("--output", default="reproduce",
                     help="output directory (default ./reproduce); finished Monte Carlo "
                          "points are kept in points.jsonl and reused by a rerun")
    rep.set_defaults(func=cmd_reproduce)
