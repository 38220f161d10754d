#!/usr/bin/env python3
"""Python anchors for the two tasks mapfit's bench derives from problems.json
(examples/bench.rs documents them):

  ridge_path  100 lambdas, lambda_max = lambda_max_lasso / 0.001, down to ratio * lambda_max
              (ratio 1e-3 if n > p else 1e-2), (1/2n)||y - Xb||^2 + lam/2 ||b||^2
  lasso_cv    10-fold CV of the lasso on the lasso grid, foldid[i] = i mod 10 (0-based here)

Tools: numpy/LAPACK ridge paths from one eigendecomposition (eigh of X^T X, or of X X^T
when p > n) and from one thin SVD; scipy Cholesky solves repeated per lambda; scikit-learn
LassoCV with the fixed folds (tol 1e-7, Gram precomputation 'auto').

Run from the harness directory's venv, with the harness directory as BENCH:
    BENCH=/path/to/bench .venv/bin/python extra_tasks.py [--clock cpu|wall] [--datasets ...]
Prints one JSON object per line (task, dataset, tool, median_s, reps, inner_loops,
max_kkt_violation, clock). Timing: the harness's common.time_call; with --clock cpu its
time.perf_counter is replaced by time.process_time (CPU time of the whole process).
"""
import argparse
import json
import os
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
ap.add_argument("--datasets", nargs="*")
ap.add_argument("--tasks", nargs="*", default=["ridge_path", "lasso_cv"])
args = ap.parse_args()
if args.clock == "cpu":
    time.perf_counter = time.process_time  # common.time_call reads time.perf_counter()

sys.path.insert(0, os.environ.get("BENCH", "."))
import common  # noqa: E402  (single-thread BLAS settings before numpy)
import numpy as np  # noqa: E402
import scipy.linalg as sla  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

RIDGE_LAMBDA_MAX_MIX = 1e-3


def ridge_grid(s):
    lmax = s["lambda_max_lasso"] / RIDGE_LAMBDA_MAX_MIX
    ratio = 1e-3 if s["n"] > s["p"] else 1e-2
    return common.lambda_grid(lmax, ratio)


def kkt(X, y, B, lams, a):
    """max over the path of max_j dist(-grad_j, lam*a*subdiff|b_j|) (no intercept)."""
    n = X.shape[0]
    worst = 0.0
    for b, lam in zip(B, lams):
        g = X.T @ (X @ b - y) / n + lam * (1.0 - a) * b
        l1 = lam * a
        v = np.where(b != 0, np.abs(g + l1 * np.sign(b)), np.maximum(np.abs(g) - l1, 0.0))
        worst = max(worst, float(v.max()))
    return worst


def eigh_path(X, y, lams):
    n, p = X.shape
    if n >= p:
        w, V = np.linalg.eigh(X.T @ X)
        c = V.T @ (X.T @ y)
        return (V @ (c[:, None] / (w[:, None] + n * lams[None, :]))).T
    w, U = np.linalg.eigh(X @ X.T)
    c = U.T @ y
    return (X.T @ (U @ (c[:, None] / (w[:, None] + n * lams[None, :])))).T


def svd_path(X, y, lams):
    n = X.shape[0]
    U, d, Vt = np.linalg.svd(X, full_matrices=False)
    g = U.T @ y
    return (Vt.T @ ((d * g)[:, None] / (d[:, None] ** 2 + n * lams[None, :]))).T


def cho_loop(X, y, lams):
    n, p = X.shape
    out = np.empty((len(lams), p))
    if n >= p:
        G, c = X.T @ X, X.T @ y
        for k, lam in enumerate(lams):
            A = G.copy()
            A.flat[:: p + 1] += n * lam
            out[k] = sla.cho_solve(sla.cho_factor(A, overwrite_a=True, check_finite=False), c,
                                   check_finite=False)
    else:
        K = X @ X.T
        for k, lam in enumerate(lams):
            A = K.copy()
            A.flat[:: n + 1] += n * lam
            out[k] = X.T @ sla.cho_solve(sla.cho_factor(A, overwrite_a=True, check_finite=False),
                                         y, check_finite=False)
    return out


def lasso_cv(XF, y, lams):
    from sklearn.linear_model import LassoCV
    from sklearn.model_selection import PredefinedSplit
    folds = PredefinedSplit(np.arange(len(y)) % 10)
    m = LassoCV(alphas=lams, cv=folds, fit_intercept=False, tol=1e-7, max_iter=100_000,
                precompute="auto").fit(XF, y)
    return m


def main():
    specs = [s for s in json.load(open(common.PROBLEMS))["problems"]
             if not args.datasets or s["dataset"] in args.datasets]
    for s in specs:
        if s["task"] == "ridge" and "ridge_path" in args.tasks:
            d = common.load_problem_data(s["dataset"])
            X, y, lams = d["X"], d["y"], ridge_grid(s)
            for tool, fn in (("numpy_eigh_path", eigh_path), ("numpy_svd_path", svd_path),
                             ("scipy_cho_solve_per_lambda", cho_loop)):
                with threadpool_limits(limits=1):
                    t, B = common.time_call(lambda: fn(X, y, lams))
                print(json.dumps({"task": "ridge_path", "dataset": s["dataset"], "tool": tool,
                                  "n": d["n"], "p": d["p"], "n_lambda": len(lams),
                                  "median_s": t["median_s"], "reps": t["reps"],
                                  "inner_loops": t["inner_loops"],
                                  "max_kkt_violation": kkt(X, y, B, lams, 0.0),
                                  "clock": args.clock}), flush=True)
        if s["task"] == "lasso_path" and "lasso_cv" in args.tasks:
            d = common.load_problem_data(s["dataset"])
            XF, y, lams = d["XF"], d["y"], np.array(s["lambdas"])
            with threadpool_limits(limits=1):
                t, m = common.time_call(lambda: lasso_cv(XF, y, lams))
            print(json.dumps({"task": "lasso_cv", "dataset": s["dataset"], "tool": "sklearn_LassoCV",
                              "n": d["n"], "p": d["p"], "n_lambda": len(lams),
                              "median_s": t["median_s"], "reps": t["reps"],
                              "inner_loops": t["inner_loops"],
                              "max_kkt_violation": kkt(d["X"], y, m.coef_[None, :],
                                                       [m.alpha_], 1.0),
                              "kkt_note": "final refit at alpha_ only (LassoCV keeps no full path)",
                              "alpha_min": float(m.alpha_), "clock": args.clock}), flush=True)


if __name__ == "__main__":
    main()
