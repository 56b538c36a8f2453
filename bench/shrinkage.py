"""Shrunken training effects of seen perturbations against the raw per-perturbation means, on held-out cells.

For every kind of screen in bench/screens.py and every seed (and the real Papalexi screen, replicate as batch,
when its data are present): prepare with a random split, compute the training effects of the single
perturbations and their empirical-Bayes shrinkage towards what the other perturbations predict
(`gpovae.borrowing.shrunken_training_effects`, what `seen_shrinkage=True` matches), and score both against the
effects of the held-out test cells: pearson_top20 (each perturbation's 20 genes of largest observed |effect|)
and Pearson over all perturbation-gene pairs. No model is fitted: matching moves the model's seen effects
onto these targets. Writes bench/results/shrinkage.json (with the commit, CPU and threads). Not a test.

    python bench/shrinkage.py [--kinds thin strong_hill ... --seeds 0 1 2 --quick]
"""
import argparse

import numpy as np
from _common import print_kind_table, write_results
from screens import KINDS, QUICK, make_screen

METRICS = ("pearson_top20", "pearson")


def run_one(kind:str, seed:int, size:dict)->dict:
    "The scores of the raw and the shrunken training effects on one screen's held-out cells"
    import anndata
    import gpovae
    from gpovae.core import shared_data_path
    from gpovae.metrics import effect_metrics
    from gpovae.scoring import observed_effects, perturbation_settings
    from gpovae.borrowing import shrunken_training_effects
    if kind == "papalexi":
        adata = anndata.read_h5ad(shared_data_path("perturbseq", "papalexi2021_thp1_299genes.h5ad"))
        prepared = gpovae.prepare(adata, batch_key="bio_rep", seed=seed)
    else:
        prepared = gpovae.prepare(make_screen(kind, seed, size), seed=seed)
    shrunk, weights = shrunken_training_effects(prepared, seed=seed)
    raw = prepared.effect_statistics("train")["effect"].loc[shrunk.index]
    seen = [p for p in perturbation_settings(prepared, "test")["seen"] if p in shrunk.index]
    truth = observed_effects(prepared, "test").loc[seen]
    scores = {}
    for name, effects in (("raw", raw), ("shrunk", shrunk)):
        metrics = effect_metrics(effects.loc[seen], truth)
        scores.update({f"{name} {m}": metrics[m] for m in METRICS})
    return dict(kind=kind, seed=seed, median_weight=float(np.median(weights.to_numpy())), scores=scores)


def row(result:dict)->dict:
    "Raw and shrunk scores, their ratios and the median weight of the measured effect"
    out = dict(result["scores"], median_weight=result["median_weight"])
    for m in METRICS: out[f"ratio {m}"] = out[f"shrunk {m}"] / out[f"raw {m}"]
    return out


COLUMNS = [f"{who} {m}" for m in METRICS for who in ("raw", "shrunk", "ratio")] + ["median_weight"]
LEGEND = ("columns, for pearson_top20 then Pearson over all pairs, on held-out cells: raw training means, shrunken "
          "training effects, shrunk / raw; median_weight: median weight of the measured effect")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=list(KINDS) + ["papalexi"], choices=list(KINDS) + ["papalexi"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--quick", action="store_true", help=f"smaller screens: {QUICK}")
    parser.add_argument("--out", default="bench/results/shrinkage.json")
    args = parser.parse_args()
    size = QUICK if args.quick else dict(n_cells=8000, n_genes=300, n_perturbations=30, n_combos=5)
    from gpovae.core import shared_data_path
    kinds = [k for k in args.kinds if k != "papalexi" or
             shared_data_path("perturbseq", "papalexi2021_thp1_299genes.h5ad") is not None]
    results = [run_one(kind, seed, size) for kind in kinds for seed in args.seeds]
    print_kind_table(results, row, COLUMNS, LEGEND)
    write_results(args.out, args, results)


if __name__ == "__main__":
    main()
