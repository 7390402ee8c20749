"""Real data: loading, the spectrum the theory sees, and Monte Carlo on the data's own matrix."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from rmtrisk import Problem, asymptotic_risk
from rmtrisk.data_spectrum import data_spectrum, power_law_fit, split_samples
from rmtrisk.montecarlo.real_data import real_data_monte_carlo
from rmtrisk.montecarlo.sampling import gaussian_noise, haar_frame
from rmtrisk.montecarlo.training import critical_point
from rmtrisk.report.data import load_matrix


@pytest.fixture
def matrix() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((7, 5))  # 7 samples (rows) of d = 5


def test_every_format_loads_to_d_by_n(tmp_path, matrix):
    np.save(tmp_path / "x.npy", matrix)
    np.savez(tmp_path / "x.npz", a=matrix, b=matrix.T)
    np.savetxt(tmp_path / "x.csv", matrix, delimiter=",", header="p0,p1,p2,p3,p4",
               comments="")
    np.savetxt(tmp_path / "y.csv", matrix.T, delimiter=",")
    batch = tmp_path / "data_batch_1"
    pixels = np.random.default_rng(1).integers(0, 256, (4, 12), dtype=np.uint8)
    batch.write_bytes(pickle.dumps({b"data": pixels, b"labels": [0, 1, 2, 3]}))
    assert np.array_equal(load_matrix(tmp_path / "x.npy", samples_as="rows"), matrix.T)
    assert np.array_equal(load_matrix(tmp_path / "x.npz", samples_as="rows", key="a"), matrix.T)
    assert np.array_equal(load_matrix(tmp_path / "x.npz", samples_as="columns", key="b"),
                          matrix.T)
    assert np.allclose(load_matrix(tmp_path / "x.csv", samples_as="rows"), matrix.T, rtol=1e-15)
    assert np.allclose(load_matrix(tmp_path / "y.csv", samples_as="columns"), matrix.T,
                       rtol=1e-15)
    assert np.array_equal(load_matrix(batch, samples_as="rows"), pixels.T / 255.0)


@pytest.mark.parametrize("bad, message", [
    ({"samples_as": "samples"}, "samples_as must be one of"),
    ({"path": "missing.npy"}, "does not exist"),
    ({"path": "x.npz"}, "choose one with key"),
    ({"path": "x.npz", "key": "c"}, "has no array 'c'"),
    ({"path": "nan.npy"}, "NaN or infinite"),
    ({"path": "flat.npy"}, "non-empty 2-D"),
    ({"path": "x.json"}, "unknown format"),
])
def test_bad_files_name_the_problem(tmp_path, matrix, bad, message):
    np.savez(tmp_path / "x.npz", a=matrix, b=matrix)
    np.save(tmp_path / "nan.npy", np.full((2, 2), np.nan))
    np.save(tmp_path / "flat.npy", np.ones(3))
    (tmp_path / "x.json").write_text("[]")
    args = {"path": "x.npy", "samples_as": "rows", **bad}
    with pytest.raises(ValueError, match=message):
        load_matrix(tmp_path / args.pop("path"), **args)


def test_spectrum_is_what_numpys_svd_gives():
    """Both paths (thin SVD for small matrices, top eigenpairs of the Gram matrix for large
    ones) give numpy's singular values and vectors; the test energies are those of
    ``U^T X_t``; scaling and centring act on both splits."""
    rng = np.random.default_rng(2)
    for d, n in ((40, 60), (620, 540)):
        train = rng.standard_normal((d, n)) * np.linspace(3, 0.5, d)[:, None]
        test = rng.standard_normal((d, 30)) * np.linspace(3, 0.5, d)[:, None]
        for center in (False, True):
            sp = data_spectrum(train, test, 8, center=center, total_energy=0.4096)
            x = train - train.mean(axis=1, keepdims=True) if center else train
            xt = test - train.mean(axis=1, keepdims=True) if center else test
            U, s, _ = np.linalg.svd(x, full_matrices=False)
            scale = np.sqrt(0.4096 / np.sum(s[:8] ** 2 / n))
            np.testing.assert_allclose(sp.sv, scale * s[:8], rtol=1e-12)
            np.testing.assert_allclose(sp.energy.sum(), 0.4096, rtol=1e-14)
            np.testing.assert_allclose(np.abs(sp.U.T @ U[:, :8]), np.eye(8), atol=1e-9)
            L = sp.U.T @ xt * scale
            np.testing.assert_allclose(sp.test_gram, L @ L.T / 30, rtol=1e-10, atol=1e-14)
            X = (sp.U * sp.sv) @ sp.V.T  # the truncation, rebuilt
            np.testing.assert_allclose(X, scale * U[:, :8] @ (U[:, :8].T @ x), rtol=1e-8,
                                       atol=1e-10)


def test_spectrum_input_errors():
    x = np.ones((4, 3))
    with pytest.raises(ValueError, match="rank must be an integer in"):
        data_spectrum(np.eye(4)[:, :3], x, 4)
    with pytest.raises(ValueError, match="rank < 2"):
        data_spectrum(x, x, 2)
    with pytest.raises(ValueError, match="same number of rows"):
        data_spectrum(x, np.ones((5, 3)), 1)
    with pytest.raises(ValueError, match="n_test must be an integer"):
        split_samples(x, 3)


def test_split_is_seeded_and_disjoint():
    data = np.arange(20.0)[None, :].repeat(2, axis=0)
    train, test = split_samples(data, 6, seed=4)
    again, _ = split_samples(data, 6, seed=4)
    assert train.shape == (2, 14) and test.shape == (2, 6)
    assert np.array_equal(train, again)
    assert not set(train[0]) & set(test[0]) and len(set(train[0]) | set(test[0])) == 20


def test_power_law_fit_recovers_the_exponent():
    e = 0.3 * np.arange(1, 51.0) ** -1.25
    alpha, a = power_law_fit(e)
    assert alpha == pytest.approx(1.25, rel=1e-12) and a == pytest.approx(0.3, rel=1e-12)


def _synthetic(d: int, n: int, sv: np.ndarray, n_test: int, seed: int):
    """A data set whose clean part is X = U diag(sv) V^T (Haar) and whose test data have
    the given energies in the U basis, plus a component outside span(U)."""
    rng = np.random.default_rng(seed)
    U, V = haar_frame(d, sv.size + 1, rng), haar_frame(n, sv.size, rng)
    train = (U[:, :-1] * sv) @ V.T
    test = (U[:, :-1] @ rng.standard_normal((sv.size, n_test))
            + 0.5 * U[:, -1:] * rng.standard_normal(n_test))
    return train, test


def test_real_data_monte_carlo_is_the_dense_risk_on_the_same_draw():
    """One replicate equals (1/N_t)||X_t - f(X_t + A_t)||^2 in expectation over the test noise,
    computed from the dense minimizer on the same noise draw (off-diagonal test terms
    included): without and with skip."""
    d, n, sv = 60, 40, np.array([4.0, 2.5, 1.0])
    train, test = _synthetic(d, n, sv, 25, 5)
    sp = data_spectrum(train, test, 3)
    X = (sp.U * sp.sv) @ sp.V.T
    Xt = sp.U @ (sp.U.T @ test)  # the part of the test data the theory sees
    for skip in (False, True):
        mc = real_data_monte_carlo(sp, k=2, skip=skip, eta2_train=0.5, eta2_test=0.3, reps=2,
                                   seed=9)
        child = np.random.SeedSequence(9).spawn(2)[0]
        A = gaussian_noise(d, n, 0.5, np.random.default_rng(child))
        W = critical_point(X + A, -A if skip else X, 2)
        f = np.eye(d) + W if skip else W
        signal = np.sum((Xt - f @ Xt) ** 2) / Xt.shape[1]
        variance = 0.3 / d * np.sum(f * f)
        np.testing.assert_allclose(mc.samples[0], [signal + variance, signal,
                                                    0.3 / d * np.sum(W * W)]
                                   if not skip else [signal + variance,
                                                     signal + variance - 0.3 / d * np.sum(W * W),
                                                     0.3 / d * np.sum(W * W)], rtol=1e-9)


def test_real_data_monte_carlo_agrees_with_the_theory_on_gaussian_model_data():
    """The noise is rotation invariant, so on data whose test gram is diagonal the risk
    distribution is the Gaussian model's whatever U and V are: theory within 4 SE."""
    d, n = 300, 150
    sv = np.array([3.0, 2.0, 1.2]) * np.sqrt(n / 10)
    train, _ = _synthetic(d, n, sv, 10, 6)
    sp = data_spectrum(train, train, 3)  # test = train: test_gram = diag(sv^2) / n
    assert np.allclose(sp.test_gram, np.diag(np.diag(sp.test_gram)), atol=1e-12)
    mc = real_data_monte_carlo(sp, k=2, eta2_train=0.4, eta2_test=0.4, reps=40, seed=2)
    theory = asymptotic_risk(Problem(d=d, n=n, sv=sp.sv.tolist(),
                                     test_energy=sp.test_energy.tolist(), k=2,
                                     eta2_train=0.4, eta2_test=0.4))
    assert abs(mc.risk - theory.risk) < 4 * mc.stderr, (mc.risk, mc.stderr, theory.risk)


def test_data_option_drives_every_command(tmp_path, capsys):
    """``--data`` sets d and the spectrum: risk equals asymptotic_risk of the data's problem,
    the table carries its d, mc --real-data runs, and clashes are clear errors."""
    from rmtrisk.cli import main

    rng = np.random.default_rng(7)
    rows = rng.standard_normal((200, 30)) * np.geomspace(2, 0.1, 30)
    np.save(tmp_path / "x.npy", rows)
    data = ["--data", str(tmp_path / "x.npy"), "--samples-as", "rows", "--rank", "3"]
    assert main(["risk", *data, "--k", "2", "--n", "100", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    train, test = split_samples(rows.T, 50, seed=0)
    pick = np.sort(np.random.default_rng(0).permutation(150)[:100])
    sp = data_spectrum(train[:, pick], test, 3)
    want = asymptotic_risk(sp.problem(k=2, eta2_train=0.3, eta2_test=0.3))
    assert out["risk"] == want.risk and out["problem"]["d"] == 30
    assert main(["table", *data, "--c", "0.5,2", "--k", "1", "--format", "csv"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 3 and table[1].startswith("30,0.5,60,")
    assert main(["mc", *data, "--k", "2", "--real-data", "--reps", "3", "--json"]) == 0
    mc = json.loads(capsys.readouterr().out)
    assert mc["reps"] == 3 and len(mc["samples"]) == 3
    assert main(["risk", *data, "--d", "4"]) == 2
    assert "drop --d" in capsys.readouterr().err
    assert main(["risk", "--data", str(tmp_path / "x.npy")]) == 2
    assert "--samples-as" in capsys.readouterr().err
    assert main(["mc", "--real-data", "--reps", "3"]) == 2
