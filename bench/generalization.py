"""Generalisation on the bench grid: perturbations and combinations never seen in training, next to the strongest baselines.

- Every kind of screen in bench/screens.py and every seed: `split="unseen"` (6 single perturbations held out;
  their cells leave training) and `split="unseen-combos"` (combinations held out, their singles kept).
  Model pearson_top20 on the held-out cells next to the published linear baseline (Ahlmann-Eltze et al. 2025:
  PCA of the training effects), the linear model on control-expression embeddings, the global training mean
  and, for combinations, the additive baseline; then the best baseline and the model's difference to it.
- Papalexi 2021 (real; skipped when the data are absent): each of the measured knock-out targets is held out
  in turn (leave-one-out, replicate as batch), and the same numbers are reported.
Writes bench/results/generalization.json (with the commit, CPU and threads). Not a test; not in CI. Runs
`--jobs` fits at a time, one thread each.

    python bench/generalization.py [--kinds ... --seeds 0 1 2 --papalexi-seeds 0 --jobs 2 --quick --no-papalexi]
"""
import argparse

import numpy as np
from _common import parse_overrides, print_kind_table, write_results
from screens import add_screen_arguments, make_screen, screen_size

BASELINES = ("linear", "linear_control", "global_mean", "additive")
MEASURED = ["CMTM6", "IFNGR2", "JAK2", "NFKBIA", "STAT1", "STAT2", "STAT3", "TNFRSF14", "UBE2L6"]


def run_one(job:dict)->dict:
    "Prepare with a held-out split, fit, evaluate; the pearson_top20 of the model and the baselines"
    import anndata
    import torch
    import gpovae
    from gpovae.core import shared_data_path
    torch.set_num_threads(1)
    if job["kind"] == "papalexi":
        adata = anndata.read_h5ad(shared_data_path("perturbseq", "papalexi2021_thp1_299genes.h5ad"))
        prepared = gpovae.prepare(adata, batch_key="bio_rep", split="unseen", holdout=[job["holdout"]], seed=job["seed"])
    else:
        adata = make_screen(job["kind"], job["seed"], job["size"])
        prepared = gpovae.prepare(adata, split=job["split"], seed=job["seed"])
    model = gpovae.GPOVAE(prepared, seed=job["seed"], **job["overrides"]).fit(progress_bar=False)
    metrics = gpovae.evaluate(model, prepared, seed=job["seed"], n_iwelbo_particles=5)
    setting = "combos" if job["split"] == "unseen-combos" else "unseen"
    scores = {"model": metrics.get(f"effects.{setting}.pearson_top20", np.nan)}
    scores.update({name: metrics.get(f"baseline.{name}.{setting}.pearson_top20", np.nan) for name in BASELINES})
    unseen = {key: value for key, value in model.history.items() if key.startswith("unseen_matching_")}
    return dict(job, epochs=model.history["epochs"], scores=scores, unseen_route=unseen)


def row(result:dict)->dict:
    "The numbers of one fit shown in the table: the scores, the best baseline and the model's margin over it"
    out = dict(result["scores"])
    out["best"] = np.nanmax([out[name] for name in BASELINES])
    out["model-best"] = out["model"] - out["best"]
    return out


COLUMNS = ["model", *BASELINES, "best", "model-best"]
LEGEND = ("pearson_top20 on held-out cells (each perturbation's 20 genes of largest observed |effect|); linear = the "
          "published linear baseline (PCA of training effects), linear_control = ridge on control-expression "
          "embeddings; best = the best baseline; model-best = the model's margin over it")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_screen_arguments(parser)
    parser.add_argument("--splits", nargs="+", default=["unseen", "unseen-combos"], choices=["unseen", "unseen-combos"])
    parser.add_argument("--no-papalexi", action="store_true")
    parser.add_argument("--papalexi-seeds", type=int, nargs="+", default=[0], help="seeds of the Papalexi leave-one-out fits")
    parser.add_argument("--set", nargs="*", default=[], help="hyperparameter overrides NAME=VALUE (numbers or words)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default="bench/results/generalization.json")
    args = parser.parse_args()
    size = screen_size(args)
    overrides = parse_overrides(args.set)
    jobs = [dict(kind=kind, split=split, seed=seed, size=size, holdout=None, overrides=overrides)
            for kind in args.kinds for split in args.splits for seed in args.seeds]
    if not args.no_papalexi:
        from gpovae.core import shared_data_path
        if shared_data_path("perturbseq", "papalexi2021_thp1_299genes.h5ad") is None:
            print("Papalexi skipped: papalexi2021_thp1_299genes.h5ad is not in GPOVAE_DATA_DIR or ../shared/data")
        else:
            jobs += [dict(kind="papalexi", split="unseen", seed=seed, holdout=target, overrides=overrides)
                     for seed in args.papalexi_seeds for target in MEASURED]
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(run_one, jobs))
    print_kind_table(results, row, COLUMNS, LEGEND, label=lambda r: (r["kind"], r["split"]),
                     detail=lambda r: f"{r['holdout'] or ''} {r['seed']}".strip())
    write_results(args.out, args, results)


if __name__ == "__main__":
    main()
