"""Reference values for tests/evidence_sklearn.rs: scikit-learn's ARDRegression on small
seeded problems (one with n > p, one with n < p, which uses the Woodbury update), and the
data itself, so that the Rust test does not need numpy's generator.

Run: python tests/data/scripts/sklearn_ard.py > tests/data/sklearn_ard.json
"""
import json

import numpy as np
import sklearn
from sklearn.linear_model import ARDRegression


def problem(seed, n, p, relevant, noise):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 1))
    x = 0.5 * z + rng.standard_normal((n, p))  # pairwise correlation 0.2
    w = np.zeros(p)
    w[:relevant] = rng.choice([-1.0, 1.0], relevant) * rng.uniform(1.0, 3.0, relevant)
    y = 2.0 + x @ w + noise * rng.standard_normal(n)
    return x, y, w


def fit(x, y, **kw):
    m = ARDRegression(**kw).fit(x, y)
    return {
        "settings": kw,
        "coef": m.coef_.tolist(),
        "intercept": float(m.intercept_),
        "alpha": float(m.alpha_),
        "lambda": m.lambda_.tolist(),
        "n_iter": int(m.n_iter_),
        "sigma_diag": np.diag(m.sigma_).tolist(),
    }


out = {"sklearn": sklearn.__version__, "numpy": np.__version__, "problems": []}
for name, seed, n, p, relevant, noise in [
    ("n_gt_p", 11, 60, 10, 3, 0.5),
    ("n_lt_p", 12, 25, 40, 4, 0.3),
]:
    x, y, w = problem(seed, n, p, relevant, noise)
    fits = [
        fit(x, y),  # scikit-learn defaults: tol 1e-3, hyper-priors 1e-6, threshold 1e4
        fit(x, y, tol=1e-10, max_iter=5000),
        fit(x, y, tol=1e-10, max_iter=5000, alpha_1=0.0, alpha_2=0.0, lambda_1=0.0, lambda_2=0.0),
    ]
    out["problems"].append(
        {"name": name, "x": x.tolist(), "y": y.tolist(), "true_coef": w.tolist(), "fits": fits}
    )
print(json.dumps(out, indent=1))
