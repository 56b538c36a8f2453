"""Model quality on the bench grid: seen effects and the GRN on held-out cells, next to the strongest baselines.

For every kind of screen in bench/screens.py (strong/modest x hill/linear, feedback, a hidden confounder,
variable knockdown, unperturbed mediators, thin perturbations, two SERGIO screens) and every seed: simulate,
prepare (random split), fit GPO-VAE with the preset's defaults, evaluate on held-out test cells, and print
one row per screen and the mean per kind:
- effects (seen perturbations): pearson_top20 of the model and of the per-perturbation training mean,
  and their ratio;
- GRN (G0 block, AUPRC vs the true network): the model, the classical baselines computed from the same
  training cells (|effect|, network deconvolution, modular response analysis), GRNBoost2 on the training
  control cells (observational; bench only), the best of them and the model's ratio to it;
- edges called vs true edges among perturbed genes.
Writes bench/results/model_quality.json (with the commit, CPU and threads). Not a test; not in CI.
Runs `--jobs` screens at a time, each on one thread.

    python bench/model_quality.py [--kinds strong_hill thin sergio ... --seeds 0 1 2 --jobs 2 --quick]
"""
import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from _common import parse_overrides, print_kind_table, write_results
from screens import add_screen_arguments, grnboost2_network, make_screen, screen_size

CLASSICAL = ("effect_magnitude", "network_deconvolution", "modular_response")


def run_one(job:dict)->dict:
    "Simulate, prepare, fit and evaluate one screen; the numbers of the table"
    import torch
    import gpovae
    from gpovae.data import log_normalize
    from gpovae.metrics import grn_truth_metrics
    from gpovae.scoring import training_control_rows
    torch.set_num_threads(1)
    start = time.perf_counter()
    adata = make_screen(job["kind"], job["seed"], job["size"])
    prepared = gpovae.prepare(adata, seed=job["seed"], split="random")
    model = gpovae.GPOVAE(prepared, preset=job["preset"], seed=job["seed"], **job["overrides"])
    model.fit(max_epochs=job["max_epochs"], progress_bar=False)
    metrics = gpovae.evaluate(model, prepared, seed=job["seed"], n_iwelbo_particles=10)
    g0 = list(prepared.nodes[:prepared.n_g0])
    truth = adata.uns["grn_true"]
    controls = log_normalize(prepared.counts(training_control_rows(prepared)))
    if not job["no_grnboost"]:
        boost = grnboost2_network(controls, prepared.genes, g0, seed=job["seed"])
        metrics.update({f"baseline.grnboost2.grn.truth.{k}": v for k, v in grn_truth_metrics(boost, truth).items()})
    metrics.update({f"grn.expected_effect.truth.{k}": v
                    for k, v in grn_truth_metrics(_expected_direct_effect(model), truth).items()})
    cells = prepared.adata.obs[prepared.settings["perturbation_key"]].value_counts()
    return dict(job, epochs=model.history["epochs"], seconds=time.perf_counter() - start,
                n_true_edges=int((truth.source.isin(g0) & truth.target.isin(g0)).sum()),
                median_cells_per_perturbation=float(cells.drop(prepared.settings["control"], errors="ignore").median()),
                metrics=metrics)


def _expected_direct_effect(model):
    "G0 block scored by probability x |signed direct effect| (the expected |direct effect|), another ranking of the same GRN"
    edges = model.grn(threshold=0.0, g0_only=True)           # every pair, self-loops excluded
    nodes = list(model.nodes[:model.n_g0])
    scores = edges.assign(score=edges.probability * edges.weight.abs())
    return scores.pivot(index="source", columns="target", values="score").reindex(index=nodes, columns=nodes).fillna(0.0)


def row(result:dict)->dict:
    "The numbers of one screen shown in the table"
    m = result["metrics"]
    out = {"model": m["effects.seen.pearson_top20"], "mean": m["baseline.perturbation_mean.seen.pearson_top20"]}
    out["ratio"] = out["model"] / out["mean"]
    out["grn"] = m.get("grn.truth.auprc", np.nan)
    out["grn_p|w|"] = m.get("grn.expected_effect.truth.auprc", np.nan)
    for name in (*CLASSICAL, "grnboost2"):
        out[name] = m.get(f"baseline.{name}.grn.truth.auprc", np.nan)
    best = np.nanmax([out[name] for name in CLASSICAL])
    out["grn/best"] = out["grn"] / best
    out["grn/|eff|"] = out["grn"] / out["effect_magnitude"]
    out.update(random=m.get("grn.truth.random_auprc", np.nan), edges=m.get("grn.n_edges", np.nan),
               true=result["n_true_edges"], cells=result["median_cells_per_perturbation"], epochs=result["epochs"])
    return out


COLUMNS = ["model", "mean", "ratio", "grn", "grn_p|w|", *CLASSICAL, "grnboost2", "grn/best", "grn/|eff|", "random", "edges",
           "true", "cells", "epochs"]
LEGEND = ("model = pearson_top20 of the model on held-out cells (seen perturbations); mean = the per-perturbation "
          "training mean; ratio = model / mean; grn = AUPRC of the model's G0 block vs the true network (edges ranked by "
          "probability; grn_p|w| ranked by probability x |direct effect|), next to "
          "|effect| (effect_ma), network deconvolution (network_d), modular response analysis (modular_r) and "
          "GRNBoost2 on control cells; grn/best = grn / the best of the three classical baselines; random = the "
          "AUPRC of chance; edges = edges called (p > 0.5), true = true edges among perturbed genes; cells = median "
          "cells per perturbation")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_screen_arguments(parser)
    parser.add_argument("--preset", default="small")
    parser.add_argument("--max-epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--set", nargs="*", default=[], help="hyperparameter overrides NAME=VALUE (numbers or words)")
    parser.add_argument("--no-grnboost", action="store_true", help="skip the GRNBoost2 reference")
    parser.add_argument("--jobs", type=int, default=2, help="screens fitted at once (one thread each)")
    parser.add_argument("--out", default="bench/results/model_quality.json")
    args = parser.parse_args()
    size = screen_size(args)
    overrides = parse_overrides(args.set)
    jobs = [dict(kind=kind, seed=seed, size=size, preset=args.preset, max_epochs=args.max_epochs,
                 overrides=overrides, no_grnboost=args.no_grnboost)
            for kind in args.kinds for seed in args.seeds]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(run_one, jobs))
    print_kind_table(results, row, COLUMNS, LEGEND)
    write_results(args.out, args, results)


if __name__ == "__main__":
    main()
