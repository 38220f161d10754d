#!/usr/bin/env python3
"""Side-by-side table of one benchmark run: mapfit (examples/bench.rs, JSON lines) against
the anchor harness (results/glmnet.json, results/python.json, results/accuracy.json) and
the extra anchors (extra_tasks.py / extra_tasks.R, JSON lines), with the targets of issue #9.

    python3 compare.py --bench BENCH_DIR --mapfit mapfit.jsonl [--extra a.jsonl ...] > table.md

Standard library only. "Matched accuracy": an anchor counts as a competitor when the KKT
violation assess.py measured for it (or the extra scripts report) is <= --matched-kkt
(default 1e-6, i.e. within 10x of the 1e-7 the issue asks of mapfit); sklearn liblinear is
never a competitor (it penalizes the intercept: another objective).
"""
import argparse
import json
import math
import os
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--bench", required=True)
ap.add_argument("--mapfit", required=True)
ap.add_argument("--extra", nargs="*", default=[])
ap.add_argument("--matched-kkt", type=float, default=1e-6)
args = ap.parse_args()

TASK_ORDER = ["lasso_path", "enet_path", "lasso_cv", "ridge", "ridge_path", "logistic_l2",
              "poisson_l2", "logistic_l1_path", "poisson_l1_path"]
SYNTH_REG = ["synth_reg_small", "synth_reg_wide", "synth_reg_tall"]


def jsonl(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                out.append(json.loads(line))
    return out


def fmt_s(t):
    if t is None or (isinstance(t, float) and math.isnan(t)):
        return "–"
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.3g} ms"
    return f"{t * 1e6:.3g} µs"


def fmt_e(v):
    return "–" if v is None else f"{v:.1e}"


# ---- mapfit ---------------------------------------------------------------------------
mapfit, machine = {}, {}
for r in jsonl(args.mapfit):
    if "machine" in r:
        machine = r["machine"]
    elif "task" in r:
        mapfit[(r["task"], r["dataset"])] = r

# ---- anchors ----------------------------------------------------------------------------
anchors = {}  # (task, dataset) -> list of {tool, median_s, kkt}
acc = {}
accf = os.path.join(args.bench, "results", "accuracy.json")
if os.path.exists(accf):
    for r in json.load(open(accf))["records"]:
        acc[(r["task"], r["dataset"], r["tool"])] = r["max_kkt"]
for fname in ("glmnet.json", "python.json"):
    fp = os.path.join(args.bench, "results", fname)
    if not os.path.exists(fp):
        continue
    for r in json.load(open(fp))["records"]:
        if "error" in r or "median_s" not in r:
            continue
        anchors.setdefault((r["task"], r["dataset"]), []).append({
            "tool": r["tool"], "median_s": r["median_s"],
            "kkt": acc.get((r["task"], r["dataset"], r["tool"])),
        })
for path in args.extra:
    for r in jsonl(path):
        if "median_s" in r:
            anchors.setdefault((r["task"], r["dataset"]), []).append({
                "tool": r["tool"], "median_s": r["median_s"], "kkt": r.get("max_kkt_violation"),
            })


def matched(a):
    return (a["kkt"] is not None and a["kkt"] <= args.matched_kkt
            and "liblinear" not in a["tool"])


def best(task, ds, pred=matched):
    c = [a for a in anchors.get((task, ds), []) if pred(a)]
    return min(c, key=lambda a: a["median_s"]) if c else None


def ratio(m, a):
    return m / a if (m and a) else float("nan")


out = []
p = out.append
bw = machine.get("stream_read_GBps")
p(f"Streaming-read bandwidth measured by the bench: **{bw:.1f} GB/s** "
  f"({machine.get('method', '')}; clock: {machine.get('clock', '?')}).\n" if bw else "")

# ---- per task: every anchor side by side -------------------------------------------------
for task in TASK_ORDER:
    keys = sorted({k for k in list(mapfit) + list(anchors) if k[0] == task}, key=lambda k: k[1])
    if not keys:
        continue
    p(f"\n### {task}\n")
    p("| dataset (n × p) | tool | median | max KKT | mapfit / tool |")
    p("|---|---|---:|---:|---:|")
    for key in keys:
        m = mapfit.get(key)
        ds = key[1]
        shape = f"{ds} ({m['n']} × {m['p']})" if m and "n" in m else ds
        if m and "median_s" in m:
            sol = m.get("solver", {})
            name = sol.get("solver") if isinstance(sol, dict) and isinstance(sol.get("solver"), str) else ""
            p(f"| {shape} | **mapfit** {name} | **{fmt_s(m['median_s'])}** | "
              f"{fmt_e(m['max_kkt_violation'])} | 1 |")
        elif m:
            p(f"| {shape} | **mapfit** | {'unsupported' if m.get('unsupported') else m.get('error', '?')} | | |")
        for a in sorted(anchors.get(key, []), key=lambda a: a["median_s"]):
            flag = "" if matched(a) else " (not matched)"
            mr = ratio(m.get("median_s") if m else None, a["median_s"])
            p(f"| {shape} | {a['tool']}{flag} | {fmt_s(a['median_s'])} | {fmt_e(a['kkt'])} | "
              f"{mr:.2f} |")

# ---- the limit and memory ----------------------------------------------------------------
p("\n### Passes-equivalent and peak memory (mapfit)\n")
p("| task | dataset | X MiB | one pass | mapfit | passes-equivalent | fit extra MiB | peak MiB | peak / X |")
p("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for task in TASK_ORDER:
    for key in sorted(k for k in mapfit if k[0] == task):
        m = mapfit[key]
        if "median_s" not in m:
            continue
        p(f"| {task} | {key[1]} | {m['x_mib']:.2f} | {fmt_s(m['pass_s'])} | {fmt_s(m['median_s'])} | "
          f"{m['passes_equivalent']:.0f} | {m['fit_extra_mib']:.2f} | {m['peak_mib']:.2f} | "
          f"{m['peak_mib'] / m['x_mib']:.2f} |")

# ---- targets --------------------------------------------------------------------------
p("\n### Targets of #9\n")
p("| target | dataset | mapfit | reference | ratio | met |")
p("|---|---|---:|---|---:|:-:|")


def row(target, ds, m, ref_name, ref_t, limit):
    if m is None or ref_t is None:
        p(f"| {target} | {ds} | {fmt_s(m)} | {ref_name or '–'} | – | – |")
        return
    r = m / ref_t
    p(f"| {target} | {ds} | {fmt_s(m)} | {ref_name} {fmt_s(ref_t)} | {r:.2f} | "
      f"{'yes' if r <= limit else '**no**'} |")


def mt(task, ds):
    m = mapfit.get((task, ds))
    ok = m and "median_s" in m and m.get("max_kkt_violation", 1) <= 1e-7
    return m["median_s"] if ok else None


for task in ("lasso_path", "enet_path"):
    for ds in SYNTH_REG:
        b = best(task, ds)
        row(f"{task} ≤ 0.8× fastest anchor", ds, mt(task, ds), b and b["tool"],
            b and b["median_s"], 0.8)
for ds in ["diabetes"] + SYNTH_REG:
    b = best("ridge", ds, lambda a: a["tool"].startswith("scipy_cho_solve"))
    row("ridge ≤ 1.5× LAPACK Cholesky", ds, mt("ridge", ds), b and b["tool"], b and b["median_s"], 1.5)
for ds in ["diabetes"] + SYNTH_REG:
    row("ridge path ≤ 2× one ridge fit", ds, mt("ridge_path", ds), "mapfit ridge",
        mt("ridge", ds), 2.0)
for task, dss in (("logistic_l2", ["breast_cancer", "synth_logit"]), ("poisson_l2", ["synth_pois"])):
    for ds in dss:
        b = best(task, ds)
        row(f"{task} ≤ 0.8× fastest anchor", ds, mt(task, ds), b and b["tool"], b and b["median_s"], 0.8)
for task, dss in (("logistic_l1_path", ["breast_cancer", "synth_logit"]),
                  ("poisson_l1_path", ["synth_pois"])):
    for ds in dss:
        b = best(task, ds, lambda a: matched(a) and (a["tool"] == "glmnet_thresh1e-14"
                                                     or a["tool"].startswith("glum")))
        row(f"{task} ≤ 0.8× glmnet 1e-14 / glum", ds, mt(task, ds), b and b["tool"],
            b and b["median_s"], 0.8)

# Memory: what a fit allocates beyond X and y, against X + O(min(n,p)²) + O(n + p) + the
# returned path: budget = 8 bytes × (2·min(n,p)² + 8·(n + p) + p·L) + 1 MiB (allocator and
# matrix-product packing buffers).
p("\nMemory budget: 8 bytes × (2·min(n,p)² + 8·(n + p) + p·L) + 1 MiB beyond X and y "
  "(two m × m matrices, a few vectors, the returned path, allocator slack).\n")
p("| memory: fit extra ≤ O(min(n,p)²) + O(n + p) + output | dataset | fit extra MiB | budget MiB | X MiB | met |")
p("|---|---|---:|---:|---:|:-:|")
for task in TASK_ORDER:
    for key in sorted(k for k in mapfit if k[0] == task):
        m = mapfit[key]
        if "fit_extra_mib" not in m:
            continue
        n, pp, L = m["n"], m["p"], m.get("n_lambda", 1)
        budget = (8 * (2 * min(n, pp) ** 2 + 8 * (n + pp) + pp * L)) / 2**20 + 1
        p(f"| {task} | {key[1]} | {m['fit_extra_mib']:.2f} | {budget:.2f} | {m['x_mib']:.2f} | "
          f"{'yes' if m['fit_extra_mib'] <= budget else '**no**'} |")
print("\n".join(out))
