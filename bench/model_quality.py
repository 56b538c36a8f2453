"""Model quality on a simulated screen (issue: the GPO-VAE model).

Simulates a screen with a known GRN, prepares it, fits GPO-VAE, evaluates on held-out test cells and
prints the effect metrics next to the baselines and the GRN AUPRC next to the naive networks.
Writes bench/results/model_quality.json. Not a test; not run in CI.

    python bench/model_quality.py [--n-cells 20000 --n-genes 500 --n-perturbations 30 --seed 0 --threads 1]
"""
import argparse
import json
import time
from pathlib import Path

import torch

import gpovae
from gpovae.prepared import prepare
from gpovae.scoring import evaluate
from gpovae.train import GPOVAE


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-cells", type=int, default=20000)
    parser.add_argument("--n-genes", type=int, default=500)
    parser.add_argument("--n-perturbations", type=int, default=30)
    parser.add_argument("--n-combos", type=int, default=5)
    parser.add_argument("--preset", default="small")
    parser.add_argument("--max-epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--set", nargs="*", default=[], help="hyperparameter overrides NAME=VALUE")
    parser.add_argument("--out", default="bench/results/model_quality.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    overrides = {k: (float(v) if v.replace(".", "", 1).replace("e-", "", 1).isdigit() else v)
                 for k, v in (item.split("=", 1) for item in args.set)}
    overrides = {k: int(v) if isinstance(v, float) and v.is_integer() and k.startswith("n_") else v
                 for k, v in overrides.items()}

    t0 = time.perf_counter()
    adata = gpovae.simulate_perturbseq(n_cells=args.n_cells, n_genes=args.n_genes,
                                       n_perturbations=args.n_perturbations, n_combos=args.n_combos, seed=args.seed)
    t_sim = time.perf_counter() - t0
    t0 = time.perf_counter()
    prepared = prepare(adata, seed=args.seed)
    t_prep = time.perf_counter() - t0
    model = GPOVAE(prepared, preset=args.preset, seed=args.seed, **overrides)
    model.fit(max_epochs=args.max_epochs, progress_bar=False)
    t0 = time.perf_counter()
    metrics = evaluate(model, prepared, seed=args.seed)
    t_eval = time.perf_counter() - t0

    rows = [
        ("effects.seen.pearson_top20", "model"),
        ("baseline.perturbation_mean.seen.pearson_top20", "per-perturbation training mean"),
        ("baseline.global_mean.seen.pearson_top20", "global training mean"),
        ("effects.seen.pearson", "model (all genes)"),
        ("baseline.perturbation_mean.seen.pearson", "per-perturbation mean (all genes)"),
        ("grn.truth.auprc", "GRN AUPRC, model"),
        ("baseline.effect_magnitude.grn.truth.auprc", "GRN AUPRC, effect-magnitude network"),
        ("baseline.control_correlation.grn.truth.auprc", "GRN AUPRC, control correlation"),
        ("baseline.alignment_target.grn.truth.auprc", "GRN AUPRC, alignment target (median |delta|)"),
        ("baseline.random.grn.truth.auprc", "GRN AUPRC, random network"),
        ("grn.truth.random_auprc", "GRN AUPRC, chance (positive fraction)"),
        ("grn.truth.auroc", "GRN AUROC, model"),
        ("baseline.effect_magnitude.grn.truth.auroc", "GRN AUROC, effect magnitude"),
        ("grn.n_edges", "GRN edges (p > 0.5)"),
        ("iwelbo.test", "IWELBO (test cells)"),
    ]
    print(f"screen: {adata.n_obs} cells x {adata.n_vars} genes, {args.n_perturbations} perturbations, "
          f"P = {len(prepared.nodes)} nodes (|G0| = {prepared.n_g0})")
    print(f"simulate {t_sim:.1f} s, prepare {t_prep:.1f} s, fit {model.history['seconds']:.1f} s "
          f"({model.history['epochs']} epochs, {model.history['seconds'] / max(model.history['epochs'], 1):.2f} s/epoch, "
          f"{model.history['cells_per_second']:.0f} cells/s), evaluate {t_eval:.1f} s")
    print(f"{'metric':<48} {'value':>10}")
    for key, name in rows:
        value = metrics.get(key)
        print(f"{name:<48} {value:>10.4f}" if value is not None else f"{name:<48} {'absent':>10}")
    ratio = metrics["effects.seen.pearson_top20"] / metrics["baseline.perturbation_mean.seen.pearson_top20"]
    print(f"model / per-perturbation-mean pearson_top20 = {ratio:.3f}")
    if "grn.truth.auprc" in metrics:
        print(f"GRN AUPRC / chance = {metrics['grn.truth.auprc'] / metrics['grn.truth.random_auprc']:.2f}, "
              f"effect-magnitude AUPRC / chance = "
              f"{metrics['baseline.effect_magnitude.grn.truth.auprc'] / metrics['grn.truth.random_auprc']:.2f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(args=vars(args), seconds=dict(simulate=t_sim, prepare=t_prep, evaluate=t_eval),
                                   history=model.history, metrics=metrics), indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
