"""Seen (or unseen) perturbations of the real Papalexi 2021 screen: the model next to the training means.

A random split of cells (replicate as batch; 20% of cells held out as test cells), fitted with the preset's
defaults for each seed, scored on the test cells: pearson_top20 (each perturbation's 20 genes of largest
observed |effect|), Pearson over all perturbation-gene pairs, and the same for the per-perturbation mean and
the global mean of the training effects. Writes bench/results/papalexi_seen.json (with the commit, CPU and
threads). Not a test; not in CI; skipped when the data are absent. Runs `--jobs` fits at a time, one thread each.
With `--split unseen`, five perturbations drawn by the seed are held out of training instead (their cells are
the test cells) and the model is scored on them next to the global mean (the per-perturbation mean does not
exist for them).

    python bench/papalexi_seen.py [--seeds 0 1 2 --jobs 2 --set seen_shrinkage=False --split unseen]
"""
import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from _common import parse_overrides, print_kind_table, write_results

DATA = ("perturbseq", "papalexi2021_thp1_299genes.h5ad")
METRICS = ("pearson_top20", "pearson")


def run_one(job:dict)->dict:
    "Prepare with a random split, fit, evaluate; the seen-effect scores of the model and the baselines"
    import anndata
    import torch
    import gpovae
    from gpovae.core import shared_data_path
    torch.set_num_threads(1)
    adata = anndata.read_h5ad(shared_data_path(*DATA))
    prepared = gpovae.prepare(adata, batch_key="bio_rep", seed=job["seed"], split=job["split"])
    setting = "seen" if job["split"] == "random" else "unseen"
    model = gpovae.GPOVAE(prepared, seed=job["seed"], **job["overrides"]).fit(progress_bar=False)
    metrics = gpovae.evaluate(model, prepared, seed=job["seed"], n_iwelbo_particles=5)
    scores = {f"model {m}": metrics.get(f"effects.{setting}.{m}", np.nan) for m in METRICS}
    for name in ("perturbation_mean", "global_mean"):
        scores.update({f"{name} {m}": metrics.get(f"baseline.{name}.{setting}.{m}", np.nan) for m in METRICS})
    return dict(job, kind="papalexi", epochs=model.history["epochs"], scores=scores)


def row(result:dict)->dict:
    "The scores of one fit and the model's ratio to the per-perturbation mean"
    out = dict(result["scores"])
    for m in METRICS: out[f"ratio {m}"] = out[f"model {m}"] / out[f"perturbation_mean {m}"]
    return out


COLUMNS = [f"{who} {m}" for m in METRICS for who in ("model", "perturbation_mean", "global_mean", "ratio")]
LEGEND = ("columns, for pearson_top20 then pearson over all pairs: model, per-perturbation training mean, global "
          "training mean, model / per-perturbation mean")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--set", nargs="*", default=[], help="hyperparameter overrides NAME=VALUE (numbers or words)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--split", default="random", choices=["random", "unseen"])
    parser.add_argument("--out", default="bench/results/papalexi_seen.json")
    args = parser.parse_args()
    from gpovae.core import shared_data_path
    if shared_data_path(*DATA) is None:
        print(f"skipped: {DATA[1]} is not in GPOVAE_DATA_DIR or ../shared/data")
        return
    jobs = [dict(seed=seed, split=args.split, overrides=parse_overrides(args.set)) for seed in args.seeds]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(run_one, jobs))
    for r in results: print({k: round(float(v), 4) for k, v in row(r).items()})
    print_kind_table(results, row, COLUMNS, LEGEND)
    write_results(args.out, args, results)


if __name__ == "__main__":
    main()
