"""One line per kind of screen from a model_quality and a generalization result file: every task next to its best baseline.

For each kind (mean over seeds): seen effects (model / per-perturbation mean), unseen perturbations and
combinations (model, the best baseline and its name, the difference), and the GRN (model AUPRC / the
best classical baseline's, and / |effect|). No fitting: it reads the JSON files the two scripts write.

    python bench/grid_table.py bench/results/model_quality.json bench/results/generalization.json
"""
import argparse
import json

import numpy as np

CLASSICAL = ("effect_magnitude", "network_deconvolution", "modular_response")
EFFECT_BASELINES = ("linear", "linear_control", "global_mean", "additive")


def _mean(values:list)->float:
    values = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def quality_by_kind(results:list)->dict:
    "kind -> seen ratio, GRN AUPRC of the model and of the best classical baseline (means over seeds)"
    out = {}
    for kind in dict.fromkeys(r["kind"] for r in results):
        runs = [r["metrics"] for r in results if r["kind"] == kind]
        seen = _mean([m["effects.seen.pearson_top20"] / m["baseline.perturbation_mean.seen.pearson_top20"] for m in runs])
        grn = _mean([m.get("grn.truth.auprc") for m in runs])
        baselines = {name: _mean([m.get(f"baseline.{name}.grn.truth.auprc") for m in runs]) for name in CLASSICAL}
        best = max(baselines, key=lambda n: -np.inf if np.isnan(baselines[n]) else baselines[n])
        out[kind] = dict(seen_ratio=seen, grn=grn, grn_best=baselines[best], grn_best_name=best,
                         grn_effect=baselines["effect_magnitude"], n=len(runs))
    return out


def generalization_by_kind(results:list)->dict:
    "(kind, setting) -> model and baseline means, the best baseline's name and score"
    out = {}
    for key in dict.fromkeys((r["kind"], r["split"]) for r in results):
        runs = [r["scores"] for r in results if (r["kind"], r["split"]) == key]
        means = {name: _mean([s.get(name) for s in runs]) for name in ("model", *EFFECT_BASELINES)}
        finite = {n: means[n] for n in EFFECT_BASELINES if np.isfinite(means[n])}
        best = max(finite, key=finite.get) if finite else None
        out[key] = dict(means, best=best, best_score=finite.get(best, float("nan")), n=len(runs))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_quality")
    parser.add_argument("generalization")
    args = parser.parse_args()
    quality = quality_by_kind(json.load(open(args.model_quality))["results"])
    general = generalization_by_kind(json.load(open(args.generalization))["results"])
    print(f"{'kind':<19} {'seen':>6} | {'unseen':>6} {'best baseline':>22} | {'combos':>6} {'best baseline':>22} | "
          f"{'GRN':>6} {'best classical':>28} {'x best':>6} {'x |eff|':>7}")
    for kind in dict.fromkeys([*quality, *(k for k, _ in general)]):
        q = quality.get(kind, {})
        cells = [f"{kind:<19} {q.get('seen_ratio', np.nan):>6.3f} |"]
        for split in ("unseen", "unseen-combos"):
            g = general.get((kind, split))
            best = f"{g['best'] or '-'} {g['best_score']:.3f}" if g else ""
            cells.append(f"{g['model']:>6.3f} {best:>22} |" if g else f"{'':>6} {'':>22} |")
        if q:
            best = f"{q['grn_best_name']} {q['grn_best']:.3f}"
            cells.append(f"{q['grn']:>6.3f} {best:>28} {q['grn'] / q['grn_best']:>6.3f} {q['grn'] / q['grn_effect']:>7.3f}")
        print(" ".join(cells))
    print("seen = model / per-perturbation training mean (pearson_top20, held-out cells); unseen, combos = model "
          "pearson_top20 and the best of the linear (published), linear_control, global_mean and additive baselines; "
          "GRN = AUPRC of the G0 block vs the truth, the best of |effect|, network deconvolution and modular response "
          "analysis, and the model's ratio to it and to |effect|; means over seeds")


if __name__ == "__main__":
    main()
