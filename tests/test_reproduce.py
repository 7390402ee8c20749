"""The reproduction of the seed paper's figures: curves equal the per-problem theory, the
published curve is the published formula, Monte Carlo points agree with the theory, and the
command writes its report, figures and data (run small through a patched setting)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rmtrisk import asymptotic_risk
from rmtrisk.cli import main
from rmtrisk.report.natural_images import image_patches, natural_image_patches
from rmtrisk.report.reproduce import (
    PaperSetting,
    curve_problems,
    figure_curves,
    paper_spectrum,
    point_estimates,
)

SMALL = PaperSetting(d=48, rank=4, n_test=60, fig2_k=(1, 2, 4), fig2_n=(30, 44), fig3_k=2,
                     fig3_n=(30, 90))


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    scales = np.geomspace(3, 0.05, SMALL.d)[:, None]
    return rng.standard_normal((SMALL.d, 120)) * scales, rng.standard_normal((SMALL.d, 80)) * scales


def test_curves_are_the_theory_cell_by_cell():
    train, test = _data()
    sp = paper_spectrum(train, test, SMALL)
    assert sp.energy.sum() == pytest.approx(SMALL.total_energy, rel=1e-13)
    for figure in ("figure2", "figure3"):
        cv = figure_curves(figure, sp, SMALL, points=7)
        for i, (k, skip) in enumerate(zip(cv.k, cv.skip, strict=True)):
            for j, p in enumerate(curve_problems(sp, SMALL, k, skip, cv.n)):
                lim = asymptotic_risk(p, limit=True, throw=False)
                assert cv.corrected["risk"][i, j] == lim.risk or not np.isfinite(lim.risk)
                pub = cv.published["risk"][i, j]
                if p.d > p.n:
                    assert pub == asymptotic_risk(p, "paper").risk
                else:
                    assert np.isnan(pub)  # the published formula is for c > 1 only
        if figure == "figure3":
            assert cv.c.min() < 1 < cv.c.max() and set(cv.skip) == {False, True}


def test_monte_carlo_points_agree_with_the_theory():
    """Gaussian model within 4 SE of the default theory; training on the data's own matrix
    within 4 SE of the theory of its spectrum (the noise is rotation invariant)."""
    train, test = _data(1)
    sp = paper_spectrum(train, test, SMALL)
    pts = point_estimates("figure2", sp, 32, setting=SMALL, reps=30, real_reps=30, seed=3,
                          real_spectrum=lambda n: paper_spectrum(train, test, SMALL, n=n))
    assert [p.k for p in pts] == list(SMALL.fig2_k)
    for p in pts:
        assert p.published is not None and p.c == pytest.approx(48 / 32)
        assert abs(p.gaussian[0] - p.default[0]) < 4 * p.gaussian[3], p
        assert abs(p.real[0] - p.real_limit[0]) < 4 * p.real[3], p


def test_training_subsets_are_nested_random_subsets():
    train, test = _data(2)
    a = paper_spectrum(train, test, SMALL, n=40)
    b = paper_spectrum(train, test, SMALL, n=40)
    assert np.array_equal(a.sv, b.sv)
    with pytest.raises(ValueError, match="n must be in"):
        paper_spectrum(train, test, SMALL, n=500)
    with pytest.raises(ValueError, match="d = 48 rows"):
        paper_spectrum(train[:10], test[:10], SMALL)


def test_natural_image_patches():
    image = np.random.default_rng(0).random((10, 12, 3))
    patches = image_patches(image, size=4, stride=3)
    assert patches.shape == (3 * 16, 3 * 3)
    np.testing.assert_array_equal(patches[:, 4], image[3:7, 3:7].transpose(2, 0, 1).ravel())
    train, test = natural_image_patches()
    assert train.shape == (3072, 7008) and test.shape == (3072, 7008)
    assert 0 <= train.min() and train.max() <= 1


def test_reproduce_command_writes_report_figures_and_resumes(tmp_path, monkeypatch, capsys):
    import rmtrisk.cli_reproduce as rep

    monkeypatch.setattr(rep, "SETTING", SMALL)
    monkeypatch.setenv("RMTRISK_CACHE", str(tmp_path / "cache"))
    train, test = _data(4)
    np.save(tmp_path / "x.npy", np.concatenate([train, test], axis=1))
    out = tmp_path / "out"
    argv = ["reproduce", "--data", str(tmp_path / "x.npy"), "--samples-as", "columns",
            "--mc-reps", "3", "--real-reps", "2", "--mc-points", "2", "--points", "9",
            "--output", str(out)]
    assert main(argv) == 0
    for name in ("report.md", "figure2.png", "figure2.svg", "figure2.csv", "figure3.png",
                 "points.jsonl", "reproduce.meta.json"):
        assert (out / name).stat().st_size > 0, name
    report = (out / "report.md").read_text()
    assert "Largest miss of the published formula" in report and "| k = 4 | 30 |" in report
    meta = json.loads((out / "reproduce.meta.json").read_text())
    assert meta["command"][:2] == ["rmtrisk", "reproduce"] and meta["mc_reps"] == 3
    rows = (out / "points.jsonl").read_text().splitlines()
    assert len(rows) == 4  # 2 sizes x 2 figures
    first = (out / "figure2.csv").read_text()
    assert main(argv) == 0  # resumed: no new point computed, same outputs
    assert len((out / "points.jsonl").read_text().splitlines()) == 4
    assert (out / "figure2.csv").read_text() == first
    assert list((tmp_path / "cache").glob("spectrum-*.npz"))
