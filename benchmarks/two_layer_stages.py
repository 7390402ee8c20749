"""Stage-wise learning of the two-layer linear DAE from small balanced initialization.

Measured with :func:`rmtrisk.montecarlo.dynamics.gradient_flow` (integrated piecewise between
the recorded times, restarting from the previous end point: the flow is autonomous), compared
with the one-layer network trained for the same time. Writes docs/figures/two_layer_stages.png
and prints the table of docs/risk_over_time.md §6.

Run: ``PYTHONPATH=. OPENBLAS_NUM_THREADS=1 python benchmarks/two_layer_stages.py``.
"""

import numpy as np

from rmtrisk import Problem
from rmtrisk.dynamics.risk_over_time import risk_over_time
from rmtrisk.dynamics.risk_over_time_mc import gradient_flow_weight
from rmtrisk.montecarlo.dynamics import gradient_flow
from rmtrisk.montecarlo.estimate import split_risk
from rmtrisk.montecarlo.sampling import haar_frame, training_sample
from rmtrisk.montecarlo.training import critical_point, statistics_from_weight

D, C, SV, K, EPS = 60, 2.0, [4.0, 2.5, 1.5], 3, 1e-4
TIMES = np.geomspace(1e-2, 1e3, 61)


def run(seed):
    p = Problem(D, c=C, sv=SV, test_energy=[1.0] * len(SV), eta2_train=1.0, eta2_test=1.0, k=K)
    rng = np.random.default_rng(seed)
    Y, U, V = training_sample(p, rng)
    X = U * p.sv_array @ V.T
    Q = haar_frame(D, K, rng)
    W1, W2 = EPS * Q.T, EPS * Q                          # balanced: W1 W1^T = W2^T W2
    unit = float(np.linalg.norm(Y, 2)) ** 2              # integrator time = t * unit
    two, one, over = [], [], []
    t_prev = 0.0
    for t in TIMES:
        res = gradient_flow(Y, X, K, W1=W1, W2=W2, t_max=(t - t_prev) * unit, gtol=1e-13,
                            n_records=2)
        W1, W2, t_prev = res.W1, res.W2, t
        W = W2 @ W1
        two.append(split_risk(statistics_from_weight(W, U, False), p))
        over.append(np.diag(U.T @ W @ U))
        one.append(split_risk(statistics_from_weight(gradient_flow_weight(Y, X, t), U, False),
                              p.replace(k=D)))
    final = split_risk(statistics_from_weight(critical_point(Y, X, K), U, False), p)
    s = np.linalg.svd(X @ Y.T, compute_uv=False)[:K]
    return np.array(two), np.array(one), np.array(over), final, s, p


def main():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [run(seed) for seed in range(4)]
    p = runs[0][5]
    theory = risk_over_time(p.replace(k=D), TIMES)
    two = np.mean([r[0][:, 0] for r in runs], axis=0)
    one = np.mean([r[1][:, 0] for r in runs], axis=0)
    over = np.mean([r[2] for r in runs], axis=0)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].plot(TIMES, two, "C0", label=f"two-layer, k = {K}, balanced init {EPS:g} (measured)")
    axes[0].plot(TIMES, one, "C1", label="one-layer (measured, same draws)")
    axes[0].plot(TIMES, theory.risk, "C1--", lw=0.8, label="one-layer theory (d -> inf)")
    axes[0].set(xscale="log", xlabel="gradient-flow time t", ylabel="test risk",
                title=f"d = {D}, c = {C:g}, sv = {SV}, l_i = 1; mean of {len(runs)} draws")
    axes[0].legend(fontsize=7)
    for i in range(K):
        axes[1].plot(TIMES, over[:, i], f"C{i}", label=f"u_{i + 1}^T W u_{i + 1}, sv = {SV[i]}")
    axes[1].set(xscale="log", xlabel="gradient-flow time t", ylabel="overlap",
                title="two-layer: directions learned one after the other")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig("docs/figures/two_layer_stages.png", dpi=130)
    print("| seed | i | sv_i | s_i (sing. value of X Y^T) | t_half | s_i t_half | "
          "u_i^T W u_i at t = 1000 |")
    for seed, (_, _, ov, _final, s, _) in enumerate(runs):
        for i in range(K):
            half = 0.5 * ov[-1, i]
            j = int(np.argmax(ov[:, i] >= half))
            # log-linear interpolation of the crossing time
            t0, t1, y0, y1 = TIMES[j - 1], TIMES[j], ov[j - 1, i], ov[j, i]
            th = np.exp(np.log(t0) + (half - y0) / (y1 - y0) * (np.log(t1) - np.log(t0)))
            print(f"| {seed} | {i + 1} | {SV[i]} | {s[i]:.3f} | {th:.3f} | {s[i] * th:.2f} | "
                  f"{ov[-1, i]:.4f} |")
    print("| seed | two-layer risk at t = 1000 | global minimizer (closed form) |")
    for seed, (tw, _, _, final, _, _) in enumerate(runs):
        print(f"| {seed} | {tw[-1, 0]:.6f} | {final[0]:.6f} |")
    print("plateaus (mean two-layer risk): ",
          [(f"{t:.3g}", f"{r:.4f}") for t, r in zip(TIMES[::6], two[::6], strict=True)])


if __name__ == "__main__":
    main()
