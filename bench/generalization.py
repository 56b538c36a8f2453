"""Generalisation: perturbations and combinations never seen in training, on simulated screens and on Papalexi.

- Simulated screens (several seeds): `split="unseen"` (6 single perturbations held out) and
  `split="unseen-combos"` (combinations held out, their singles kept). Model pearson_top20 on the
  held-out cells next to the linear baseline (ridge on gene embeddings from training data), the
  global training mean and, for combinations, the additive baseline.
- Papalexi 2021 (real; skipped when the data are absent): each of the measured knock-out targets is
  held out in turn (leave-one-out, replicate as batch), and the same numbers are reported.
Writes bench/results/generalization.json. Not a test; not run in CI. Runs `--jobs` fits at a time, one
thread each.

    python bench/generalization.py [--seeds 0 1 2 --papalexi-seeds 0 --jobs 2 --no-papalexi --set NAME=VALUE ...]
"""
import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from _common import parse_overrides, write_results

COLUMNS = ("model", "linear", "global_mean", "additive")


def run_one(job:dict)->dict:
    "Prepare with a held-out split, fit, evaluate; the pearson_top20 of the model and the baselines"
    import anndata
    import torch
    import gpovae
    from gpovae.core import shared_data_path
    torch.set_num_threads(1)
    if job["screen"] == "papalexi":
        adata = anndata.read_h5ad(shared_data_path("perturbseq", "papalexi2021_thp1_299genes.h5ad"))
        prepared = gpovae.prepare(adata, batch_key="bio_rep", split="unseen", holdout=[job["holdout"]], seed=job["seed"])
    else:
        adata = gpovae.simulate_perturbseq(n_cells=job["n_cells"], n_genes=job["n_genes"], n_perturbations=job["n_perturbations"],
                                           n_combos=job["n_combos"], seed=job["seed"])
        prepared = gpovae.prepare(adata, split=job["split"], seed=job["seed"])
    model = gpovae.GPOVAE(prepared, seed=job["seed"], **job["overrides"]).fit(progress_bar=False)
    metrics = gpovae.evaluate(model, prepared, seed=job["seed"], n_iwelbo_particles=5)
    setting = "combos" if job["split"] == "unseen-combos" else "unseen"
    keys = {"model": f"effects.{setting}.pearson_top20", "linear": f"baseline.linear.{setting}.pearson_top20",
            "global_mean": f"baseline.global_mean.{setting}.pearson_top20", "additive": f"baseline.additive.{setting}.pearson_top20"}
    return dict(job, epochs=model.history["epochs"], scores={name: metrics.get(key, np.nan) for name, key in keys.items()})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-cells", type=int, default=8000)
    parser.add_argument("--n-genes", type=int, default=300)
    parser.add_argument("--n-perturbations", type=int, default=30)
    parser.add_argument("--n-combos", type=int, default=5)
    parser.add_argument("--no-papalexi", action="store_true")
    parser.add_argument("--papalexi-seeds", type=int, nargs="+", default=[0], help="seeds of the Papalexi leave-one-out fits")
    parser.add_argument("--set", nargs="*", default=[], help="hyperparameter overrides NAME=VALUE (numbers or words)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default="bench/results/generalization.json")
    args = parser.parse_args()
    size = dict(n_cells=args.n_cells, n_genes=args.n_genes, n_perturbations=args.n_perturbations, n_combos=args.n_combos)
    overrides = parse_overrides(args.set)
    jobs = [dict(size, screen="simulated", split=split, seed=seed, holdout=None, overrides=overrides)
            for split in ("unseen", "unseen-combos") for seed in args.seeds]
    if not args.no_papalexi:
        from gpovae.core import shared_data_path
        if shared_data_path("perturbseq", "papalexi2021_thp1_299genes.h5ad") is None:
            print("Papalexi skipped: papalexi2021_thp1_299genes.h5ad is not in GPOVAE_DATA_DIR or ../shared/data")
        else:
            measured = ["CMTM6", "IFNGR2", "JAK2", "NFKBIA", "STAT1", "STAT2", "STAT3", "TNFRSF14", "UBE2L6"]
            jobs += [dict(screen="papalexi", split="unseen", seed=seed, holdout=target, overrides=overrides)
                     for seed in args.papalexi_seeds for target in measured]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(run_one, jobs))
    print(f"{'screen':<10} {'split':<14} {'held out':<9} {'seed':>4} " + " ".join(f"{c:>11}" for c in COLUMNS))
    groups = {}
    for r in results:
        label = (r["screen"], r["split"])
        groups.setdefault(label, []).append([r["scores"][c] for c in COLUMNS])
        print(f"{r['screen']:<10} {r['split']:<14} {str(r['holdout'] or '-'):<9} {r['seed']:>4} "
              + " ".join(f"{r['scores'][c]:>11.3f}" for c in COLUMNS))
    print("mean")
    for (screen, split), values in groups.items():
        print(f"{screen:<10} {split:<14} {'':<9} {'':>4} " + " ".join(f"{v:>11.3f}" for v in np.nanmean(values, axis=0)))
    print("pearson_top20 of held-out cells: each perturbation's 20 genes of largest observed |effect|")
    write_results(args.out, args, results)


if __name__ == "__main__":
    main()
