"""Random audit of the theory against Monte Carlo over seeded random cells of every regime.

Cell ``i`` is drawn from ``numpy.random.default_rng(SeedSequence([root, i]))``, so each cell is
reproducible and independent of how many cells are drawn. Two modes:

* ``run``: Monte Carlo of cells ``0 .. --cells - 1`` at each ``--d``; one JSON line per
  finished ``(cell, d)`` (flush + fsync) holding the full ``Problem.to_dict()``, ``d``, ``reps``,
  ``seed`` and the MC risk / bias / variance with their standard errors. Rerunning skips finished
  ``(cell, d, reps, seed)`` keys; a torn last line is dropped and the file repaired.
* ``report``: recompute the theory (default and ``finite_size=True``) from the stored rows, so the
  table is re-verified after theory changes without re-simulating, and write a markdown report.

Pass rule: ``|theory - MC| <= max(4 SE, 0.005 MC)`` (default) and ``<= 4 SE`` (finite_size=True).
A non-SUCCESS theory counts as "no usable theory", never as a pass.

Run: ``python benchmarks/random_audit.py run --d 1000 --cells 240 --reps 10`` then
``python benchmarks/random_audit.py report``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

import rmtrisk
from rmtrisk import Problem, Status

DEFAULT_OUT = "benchmarks/results/random_audit.jsonl"
DEFAULT_MD = "benchmarks/results/random_audit.md"


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def draw_cell(root: int, index: int) -> dict[str, Any]:
    """Draw the dimension-free description of random cell ``index`` of root seed ``root``.

    Parameters
    ----------
    root : int
        Root seed (>= 0).
    index : int
        Cell index (>= 0); the stream is ``SeedSequence([root, index])``.

    Returns
    -------
    dict
        Keyword arguments of :class:`rmtrisk.Problem` without ``d`` (JSON-ready), plus
        ``"tags"`` (a dict describing how the cell was drawn).
    """
    if root < 0 or index < 0:
        raise ValueError(f"root and index must be >= 0, got {root}, {index}")
    rng = np.random.default_rng(np.random.SeedSequence([root, index]))
    skip = bool(rng.random() < 0.5)
    while True:
        c = _log_uniform(rng, 0.2, 5.0)
        if abs(c - 1.0) >= 0.1:
            break
    eta2_train = _log_uniform(rng, 0.1, 3.0)
    eta2_test = _log_uniform(rng, 0.1, 3.0)
    r = int(rng.integers(1, 17))
    shape = str(rng.choice(["flat", "geometric", "spiked"]))
    if shape == "flat":
        base = np.ones(r)
    elif shape == "geometric":
        base = _log_uniform(rng, 0.5, 0.95) ** np.arange(r)
    else:
        n_spikes = int(rng.integers(1, r + 1))
        base = np.where(np.arange(r) < n_spikes, 1.0, rng.uniform(0.1, 0.5))
        base = base * (1.0 + 0.1 * rng.random(r))
    near_tie = r >= 2 and bool(rng.random() < 0.3)
    base = np.sort(base)[::-1].astype(float)
    if near_tie:
        j = int(rng.integers(0, r - 1))
        gap = _log_uniform(rng, 1e-6, 1e-2)
        base[j + 1] = base[j] * (1.0 - gap)
    if shape == "flat" and r >= 2 and not near_tie:
        # exact ties are a degenerate spectrum; keep tiny generic splits (1e-3 relative)
        base = base * (1.0 - 1e-3 * np.arange(r))
    scaling = str(rng.choice(["sv", "energy"]))
    top = _log_uniform(rng, 0.3, 3.0)
    kw: dict[str, Any] = {"c": c, "eta2_train": eta2_train, "eta2_test": eta2_test, "skip": skip}
    if scaling == "sv":
        kw["sv"] = (top * math.sqrt(eta2_train) * base / base[0]).tolist()
    else:
        kw["energy"] = (_log_uniform(rng, 0.1, 3.0) * (base / base[0]) ** 2).tolist()
    strong = bool(rng.random() < 0.5)
    if strong:
        kw["test_energy"] = rng.uniform(0.3, 3.0, size=r).tolist()
    if skip and rng.random() < 0.5:
        kw["kappa"] = float(rng.uniform(0.05, 0.5))
    else:
        kw["k"] = int(rng.integers(1, r + 3))
    kw["reg"] = 0.0 if rng.random() < 0.5 else _log_uniform(rng, 1e-4, 3.0)
    non_top = False
    if not skip and r >= 2 and rng.random() < 0.15:
        size = int(rng.integers(1, min(kw["k"], r) + 1))
        chosen = sorted(int(x) for x in rng.choice(np.arange(1, r + 1), size=size, replace=False))
        if chosen != list(range(1, size + 1)):
            kw["critical_set"] = chosen
            kw["reg"] = 0.0
            non_top = True
    kw["tags"] = {"shape": shape, "scaling": scaling, "strong": strong, "near_tie": near_tie,
                  "non_top": non_top}
    return kw


def make_problem(cell: dict[str, Any], d: int) -> Problem:
    """The :class:`~rmtrisk.Problem` of a drawn cell at dimension ``d``."""
    kw = {key: val for key, val in cell.items() if key != "tags"}
    return Problem(d=d, **kw)


class JsonlStore:
    """Append-only JSON-lines store keyed by ``(cell, d, reps, seed)``; torn last line repaired."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.rows: list[dict[str, Any]] = []
        if self.path.exists():
            raw = self.path.read_bytes()
            good = 0
            pos = 0
            for line in raw.split(b"\n"):
                end = pos + len(line) + 1
                if end > len(raw):  # last fragment has no newline: torn unless empty
                    break
                if line.strip():
                    try:
                        self.rows.append(json.loads(line))
                    except json.JSONDecodeError:
                        break
                good = end
                pos = end
            if good < len(raw):
                with open(self.path, "r+b") as fh:
                    fh.truncate(good)
        self.keys = {self.key(row) for row in self.rows}

    @staticmethod
    def key(row: dict[str, Any]) -> tuple[int, int, int, int]:
        """The resume key of a row."""
        return (int(row["cell"]), int(row["d"]), int(row["reps"]), int(row["seed"]))

    def __contains__(self, key: tuple[int, int, int, int]) -> bool:
        return key in self.keys

    def append(self, row: dict[str, Any]) -> None:
        """Write one row durably (flush + fsync)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.rows.append(row)
        self.keys.add(self.key(row))


def run(args: argparse.Namespace) -> None:
    """Monte Carlo of the requested cells, resuming from the store."""
    store = JsonlStore(args.out)
    for d in args.d:
        for i in range(args.start, args.cells):
            key = (i, d, args.reps, args.seed)
            if key in store:
                continue
            cell = draw_cell(args.root, i)
            try:
                p = make_problem(cell, d)
            except ValueError as exc:
                print(f"cell {i} d={d}: invalid ({exc})", flush=True)
                continue
            t0 = time.perf_counter()
            mc = rmtrisk.monte_carlo_risk(p, reps=args.reps, seed=args.seed, workers=1)
            row = {"cell": i, "root": args.root, "d": d, "reps": args.reps, "seed": args.seed,
                   "problem": p.to_dict(), "tags": cell["tags"],
                   "mc_risk": mc.risk, "mc_stderr": mc.stderr, "mc_bias": mc.bias,
                   "mc_bias_stderr": mc.bias_stderr, "mc_variance": mc.variance,
                   "mc_variance_stderr": mc.variance_stderr,
                   "seconds": time.perf_counter() - t0}
            store.append(row)
            print(f"cell {i} d={d} risk={mc.risk:.6g}+-{mc.stderr:.2g} "
                  f"({row['seconds']:.1f}s)", flush=True)


#: Why a stored cell fails, as investigated (cell -> cause); the report lists it next to the
#: failure. Cells whose critical point is not unique are recognized from the theory's message.
CAUSES = {
    84: "fixed k = 4 at lambda = 1.9 eta^2: an O(1/d) term of the skip-ridge theory at a "
        "fixed bottleneck is not derived (d x (theory - MC) = 0.23 at d = 1000, 0.24 at 2000)",
    65: "d = 1000 only (d x gap 0.18 -> 0.11 at d = 2000, z -2.6): higher-order finite size",
    141: "c < 1 with lambda > 0: the interaction of signal directions is not derived below "
         "c = 1 (docs/skip_interaction.md); passes at d = 2000",
    165: "d = 1000 only: the remainder after the interaction term shrinks faster than 1/d "
         "(d x gap 0.19 -> 0.08 at d = 2000)",
}
_NOT_UNIQUE = ("critical point not unique: an exact tie cut by the critical set, the value "
               "depends on the eigensolver's tie-breaking (ill-posed; the theory gives the "
               "average over the tied block)")


def _theory(p: Problem, finite_size: bool) -> tuple[float, str, str, str]:
    try:
        res = rmtrisk.asymptotic_risk(p, variant="default", finite_size=finite_size, throw=False)
    except Exception as exc:  # noqa: BLE001 - an audit must record every failure mode
        return math.nan, "EXCEPTION", f"{type(exc).__name__}: {exc}", ""
    status = res.status.name if isinstance(res.status, Status) else str(res.status)
    return float(res.risk), status, res.regime, res.message


def _summary(p: Problem, tags: dict[str, Any]) -> str:
    parts = [f"d={p.d} c={p.c:.3g}", "skip" if p.skip else "plain", f"k={p.k}", f"r={p.r}",
             f"reg={p.reg:.3g}", f"eta2={p.eta2_train:.3g}/{p.eta2_test:.3g}",
             f"{tags.get('shape')}/{tags.get('scaling')}",
             "strong" if tags.get("strong") else "in-dist"]
    if tags.get("near_tie"):
        parts.append("near-tie")
    if p.critical_set is not None:
        parts.append(f"set={list(p.critical_set)}")
    return " ".join(parts)


def evaluate(row: dict[str, Any]) -> dict[str, Any]:
    """Theory (default and finite-size) for one stored row and the pass verdicts."""
    p = Problem.from_dict(row["problem"])
    mc, se = row["mc_risk"], row["mc_stderr"]
    out: dict[str, Any] = {"summary": _summary(p, row.get("tags", {})), "mc": mc, "se": se}
    for name, fs, tol in (("default", False, max(4 * se, 0.005 * abs(mc))),
                          ("finite", True, 4 * se)):
        th, status, regime, message = _theory(p, fs)
        out[f"{name}_theory"], out[f"{name}_status"] = th, status
        if name == "default":
            out["regime"] = regime if status != "EXCEPTION" else "exception"
            out["cause"] = (_NOT_UNIQUE if "not unique" in message
                            else CAUSES.get(row["cell"], "not investigated"))
        if status != "SUCCESS" or not math.isfinite(th):
            out[f"{name}_verdict"] = "no theory"
            out[f"{name}_z"] = math.nan
        else:
            out[f"{name}_z"] = (th - mc) / se if se > 0 else math.nan
            out[f"{name}_verdict"] = "pass" if abs(th - mc) <= tol else "FAIL"
    return out


def report(args: argparse.Namespace) -> str:
    """Recompute the theory from the stored rows and write the markdown report."""
    store = JsonlStore(args.out)
    evals = [(row, evaluate(row)) for row in store.rows]
    lines = ["# Random audit: theory against Monte Carlo on seeded random cells", "",
             f"Generated by `python benchmarks/random_audit.py report` from `{args.out}` "
             f"({len(evals)} stored (cell, d) rows; theory recomputed from the stored problems).",
             "", "Pass rule: default |theory - MC| <= max(4 SE, 0.5 % of MC); finite_size=True "
             "|theory - MC| <= 4 SE. A non-SUCCESS theory is \"no theory\", never a pass.", ""]
    by = defaultdict(Counter)
    for row, ev in evals:
        k = (ev["regime"], row["d"])
        by[k]["n"] += 1
        for name in ("default", "finite"):
            by[k][f"{name} {ev[f'{name}_verdict']}"] += 1
    lines += ["| regime | d | cells | default pass | default FAIL | default no theory | "
              "finite pass | finite FAIL | finite no theory |",
              "|---|---|---|---|---|---|---|---|---|"]
    tot = Counter()
    for (reg, d), cnt in sorted(by.items()):
        lines.append(f"| {reg} | {d} | {cnt['n']} | {cnt['default pass']} | "
                     f"{cnt['default FAIL']} | {cnt['default no theory']} | "
                     f"{cnt['finite pass']} | {cnt['finite FAIL']} | {cnt['finite no theory']} |")
        tot.update(cnt)
    lines.append(f"| **all** | | {tot['n']} | {tot['default pass']} | {tot['default FAIL']} | "
                 f"{tot['default no theory']} | {tot['finite pass']} | {tot['finite FAIL']} | "
                 f"{tot['finite no theory']} |")
    lines += ["", "## Pass rates", "", "| d | cells | default | finite_size=True |",
              "|---|---|---|---|"]
    for d in sorted({row["d"] for row, _ in evals}):
        cnt = Counter()
        for (_, dd), c in by.items():
            if dd == d:
                cnt.update(c)
        n_d, dp, fp = cnt["n"], cnt["default pass"], cnt["finite pass"]
        lines.append(f"| {d} | {n_d} | {dp} ({dp / n_d:.1%}) | {fp} ({fp / n_d:.1%}) |")
    statuses = Counter((ev["default_status"], ev["finite_status"]) for _, ev in evals)
    lines += ["", "## Theory statuses (default, finite_size)", ""]
    lines += [f"- {a} / {b}: {n}" for (a, b), n in sorted(statuses.items())]

    def table(title: str, pick) -> None:
        sel = [(row, ev) for row, ev in evals if pick(ev)]
        lines.extend(["", f"## {title} ({len(sel)})", ""])
        if not sel:
            lines.append("none")
            return
        lines.append("| cell | problem | regime | theory | finite | MC | SE | z | z finite | "
                     "statuses | cause |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for row, ev in sorted(sel, key=lambda t: (t[0]["d"], t[0]["cell"])):
            lines.append(f"| {row['cell']} | {ev['summary']} | {ev['regime']} | "
                         f"{ev['default_theory']:.6g} | {ev['finite_theory']:.6g} | "
                         f"{ev['mc']:.6g} | {ev['se']:.2g} | {ev['default_z']:.2f} | "
                         f"{ev['finite_z']:.2f} | {ev['default_status']}/{ev['finite_status']} | "
                         f"{ev['cause']} |")

    table("Failing cells, default theory", lambda ev: ev["default_verdict"] == "FAIL")
    table("Failing cells, finite_size=True only", lambda ev: ev["finite_verdict"] == "FAIL"
          and ev["default_verdict"] != "FAIL")
    table("Cells with no usable theory", lambda ev: ev["default_verdict"] == "no theory"
          or ev["finite_verdict"] == "no theory")
    text = "\n".join(lines) + "\n"
    Path(args.md).parent.mkdir(parents=True, exist_ok=True)
    Path(args.md).write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    p_run = sub.add_parser("run", help="Monte Carlo of random cells (resumable)")
    p_run.add_argument("--d", type=int, nargs="+", default=[1000])
    p_run.add_argument("--cells", type=int, default=240, help="draw cells [start, cells)")
    p_run.add_argument("--start", type=int, default=0)
    p_run.add_argument("--reps", type=int, default=10)
    p_run.add_argument("--seed", type=int, default=0, help="Monte Carlo root seed")
    p_run.add_argument("--root", type=int, default=2026, help="cell-generator root seed")
    p_run.add_argument("--out", default=DEFAULT_OUT)
    p_rep = sub.add_parser("report", help="recompute theory from stored rows, write markdown")
    p_rep.add_argument("--out", default=DEFAULT_OUT)
    p_rep.add_argument("--md", default=DEFAULT_MD)
    args = parser.parse_args(argv)
    if args.mode == "run":
        run(args)
    else:
        sys.stdout.write(report(args))


if __name__ == "__main__":
    main()
