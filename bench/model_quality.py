"""Model quality on simulated screens of several kinds: effects and GRN on held-out cells, next to the baselines.

Simulates screens with a known GRN (strong and modest effects, saturating "hill" and "linear"
regulation, several seeds), prepares each, fits GPO-VAE with the preset's defaults, evaluates on
held-out test cells and prints one row per screen and the mean per kind:
- effects: model pearson_top20 vs the per-perturbation training mean (seen perturbations), and their ratio;
- GRN (G0 block): AUPRC of the model vs effect magnitude, network deconvolution and modular response
  analysis (all from the same training cells), edges called vs true edges, and the sign agreement of
  the exported weights with the training effect on called edges with |effect| > 0.3.
Writes bench/results/model_quality.json. Not a test; not run in CI. Runs `--jobs` screens at a time,
each on one thread.

    python bench/model_quality.py [--seeds 0 1 2 --regimes strong modest --regulations hill linear --jobs 2]
"""
import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from _common import parse_overrides, write_results

BASELINES = ("effect_magnitude", "network_deconvolution", "modular_response")


def run_one(job:dict)->dict:
    "Simulate, prepare, fit and evaluate one screen; a flat dict of the numbers the table shows"
    import torch
    import gpovae
    from gpovae.simulate import REGIMES
    torch.set_num_threads(1)
    start = time.perf_counter()
    adata = gpovae.simulate_perturbseq(n_cells=job["n_cells"], n_genes=job["n_genes"], n_perturbations=job["n_perturbations"],
                                       n_combos=job["n_combos"], seed=job["seed"], regulation=job["regulation"],
                                       **REGIMES[job["regime"]])
    prepared = gpovae.prepare(adata, seed=job["seed"], split=job["split"])
    model = gpovae.GPOVAE(prepared, preset=job["preset"], seed=job["seed"], **job["overrides"])
    model.fit(max_epochs=job["max_epochs"], progress_bar=False, precision=job["precision"])
    metrics = gpovae.evaluate(model, prepared, seed=job["seed"], n_iwelbo_particles=10)
    edges = model.grn(g0_only=True)
    effects = prepared.effect_statistics("train")["effect"]
    known = [(s, t) for s, t in zip(edges.source, edges.target) if s in effects.index]
    observed = np.array([effects.loc[s, t] for s, t in known])
    weight = edges.set_index(["source", "target"]).loc[known, "weight"].to_numpy() if known else np.zeros(0)
    strong = np.abs(observed) > 0.3
    truth = adata.uns["grn_true"]
    g0 = set(prepared.nodes[:prepared.n_g0])
    return dict(job, epochs=model.history["epochs"], seconds=time.perf_counter() - start,
                n_true_edges=int((truth.source.isin(g0) & truth.target.isin(g0)).sum()),
                sign_agreement=float((np.sign(observed[strong]) == np.sign(weight[strong])).mean()) if strong.any() else None,
                n_signed=int(strong.sum()), metrics=metrics)


def row(result:dict)->dict:
    "The numbers of one screen shown in the table"
    m = result["metrics"]
    out = {"model": m["effects.seen.pearson_top20"], "mean": m["baseline.perturbation_mean.seen.pearson_top20"]}
    out["ratio"] = out["model"] / out["mean"]
    out["grn"] = m.get("grn.truth.auprc", np.nan)
    for name in BASELINES:
        out[name] = m.get(f"baseline.{name}.grn.truth.auprc", np.nan)
    out.update(edges=m.get("grn.n_edges", np.nan), true=result["n_true_edges"], sign=result["sign_agreement"] or np.nan,
               epochs=result["epochs"])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--regimes", nargs="+", default=["strong", "modest"])
    parser.add_argument("--regulations", nargs="+", default=["hill", "linear"])
    parser.add_argument("--n-cells", type=int, default=8000)
    parser.add_argument("--n-genes", type=int, default=300)
    parser.add_argument("--n-perturbations", type=int, default=30)
    parser.add_argument("--n-combos", type=int, default=5)
    parser.add_argument("--split", default="random")
    parser.add_argument("--preset", default="small")
    parser.add_argument("--max-epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--set", nargs="*", default=[], help="hyperparameter overrides NAME=VALUE (numbers or words)")
    parser.add_argument("--precision", default="32-true", help="Lightning precision of the fits, e.g. bf16-mixed")
    parser.add_argument("--jobs", type=int, default=2, help="screens fitted at once (one thread each)")
    parser.add_argument("--out", default="bench/results/model_quality.json")
    args = parser.parse_args()
    overrides = parse_overrides(args.set)
    jobs = [dict(seed=s, regime=r, regulation=g, n_cells=args.n_cells, n_genes=args.n_genes,
                 n_perturbations=args.n_perturbations, n_combos=args.n_combos, split=args.split, preset=args.preset,
                 max_epochs=args.max_epochs, precision=args.precision, overrides=overrides)
            for r in args.regimes for g in args.regulations for s in args.seeds]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(run_one, jobs))
    columns = ["model", "mean", "ratio", "grn", *BASELINES, "edges", "true", "sign", "epochs"]
    print(f"{'regime':<7} {'regulation':<10} {'seed':>4} " + " ".join(f"{c[:9]:>9}" for c in columns))
    kinds = {}
    for result in results:
        values = row(result)
        kinds.setdefault((result["regime"], result["regulation"]), []).append([values[c] for c in columns])
        print(f"{result['regime']:<7} {result['regulation']:<10} {result['seed']:>4} " + " ".join(f"{values[c]:>9.3f}" for c in columns))
    print("mean over seeds")
    for (regime, regulation), values in kinds.items():
        print(f"{regime:<7} {regulation:<10} {'':>4} " + " ".join(f"{v:>9.3f}" for v in np.nanmean(values, axis=0)))
    print("model = pearson_top20 of the model on held-out cells (seen perturbations); mean = the per-perturbation "
          "training mean; grn and the next three = AUPRC of the G0 block vs the true network; sign = share of called "
          "edges with |training effect| > 0.3 whose weight has the effect's sign")
    write_results(args.out, args, results)


if __name__ == "__main__":
    main()
