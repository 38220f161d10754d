"""Reference for tests/glm_sklearn.rs: scikit-learn LogisticRegression (L2) on logit_small.csv.

scikit-learn minimizes C * sum_i logloss_i + 1/2 ||w||^2 (intercept unpenalized), which is
mapfit's Bernoulli likelihood with the Gaussian prior N(0, tau^2 = C).

Usage: python glm_sklearn_logistic_l2.py ../logit_small.csv ../sklearn_logistic_l2.json
(scikit-learn 1.9.1, tol 1e-12. The newton-cholesky solution is stored; its gradient is checked
here to be below 1e-9. lbfgs is run as a cross-check and agrees to ~1e-6 only.)
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

src, out = sys.argv[1], sys.argv[2]
data = np.loadtxt(src, delimiter=",", skiprows=1)
with open(src) as f:
    header = f.readline().strip().split(",")
t = header.index("y")
y = data[:, t]
X = np.delete(data, t, axis=1)

fits = []
for C in (0.05, 2.0):
    res = {}
    for solver in ("newton-cholesky", "lbfgs"):
        m = LogisticRegression(C=C, solver=solver, tol=1e-12, max_iter=100000)
        m.fit(X, y)
        res[solver] = (m.coef_.ravel().copy(), float(m.intercept_[0]), int(m.n_iter_[0]))
    (w1, b1, it1), (w2, b2, it2) = res["newton-cholesky"], res["lbfgs"]
    agree = max(np.max(np.abs(w1 - w2) / np.maximum(1, np.abs(w1))), abs(b1 - b2) / max(1, abs(b1)))
    # optimality of the newton-cholesky solution: gradient of C*sum logloss + 1/2||w||^2
    eta = X @ w1 + b1
    r = 1.0 / (1.0 + np.exp(-eta)) - y
    grad = np.concatenate([C * (X.T @ r) + w1, [C * r.sum()]])
    gmax = float(np.max(np.abs(grad)))
    print(f"C={C}: newton-cholesky {it1} it (max |gradient| {gmax:.1e}), "
          f"lbfgs {it2} it, max rel disagreement {agree:.2e}")
    assert gmax < 1e-9, gmax
    assert agree < 1e-5, agree
    fits.append({
        "C": C,
        "solver": "newton-cholesky",
        "n_iter": it1,
        "coef": [float(v) for v in w1],
        "intercept": b1,
        "max_abs_gradient": gmax,
        "lbfgs_max_rel_disagreement": float(agree),
    })

json.dump({
    "provenance": "tests/data/scripts/glm_sklearn_logistic_l2.py on tests/data/logit_small.csv",
    "sklearn": sklearn.__version__,
    "objective": "C * sum_i logloss_i + 1/2 ||w||^2, intercept unpenalized; = Bernoulli likelihood with Gaussian prior tau^2 = C",
    "tol": 1e-12,
    "fits": fits,
}, open(out, "w"), indent=1)
