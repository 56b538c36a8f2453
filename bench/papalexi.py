"""GPO-VAE on the real Papalexi 2021 THP-1 screen (299-gene panel), scored honestly.

Prepares the screen (replicate as covariate), trains, evaluates on held-out test cells and prints the
effect metrics of the model next to the per-perturbation-mean and global-mean baselines, and the GRN
precision/recall against TRRUST (directed) and STRING (undirected) next to the random network.
Writes bench/results/papalexi.json. Skips with a message when the data are absent. Not run in CI.

    python bench/papalexi.py [--preset small --seed 0]   (max epochs: the preset's unless --max-epochs)
"""
import argparse
import json
import time
from pathlib import Path

import anndata
import torch

from gpovae.core import shared_data_path
from gpovae.metrics import read_edge_file
from gpovae.prepared import prepare
from gpovae.scoring import evaluate
from gpovae.model import GPOVAE


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--max-epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--precision", default="32-true", help="Lightning precision of the fit, e.g. bf16-mixed")
    parser.add_argument("--out", default="bench/results/papalexi.json")
    args = parser.parse_args()
    path = shared_data_path("perturbseq", "papalexi2021_thp1_299genes.h5ad")
    trrust, string = shared_data_path("grn", "trrust_v2_human.tsv"), shared_data_path("grn", "string_v12_human_ppi.tsv.gz")
    if path is None or trrust is None or string is None:
        print("skipped: the Papalexi screen or the TRRUST/STRING files are not in GPOVAE_DATA_DIR or ../shared/data")
        return
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    prepared = prepare(anndata.read_h5ad(path), batch_key="bio_rep", seed=args.seed)
    t_prep = time.perf_counter() - start
    model = GPOVAE(prepared, preset=args.preset, seed=args.seed)
    model.fit(max_epochs=args.max_epochs, progress_bar=False, precision=args.precision)
    networks = {"TRRUST": read_edge_file(trrust, directed=True), "STRING": read_edge_file(string, directed=False)}
    metrics = evaluate(model, prepared, networks=networks, seed=args.seed)
    print(prepared.summary())
    print(f"prepare {t_prep:.1f} s, fit {model.history['seconds']:.1f} s ({model.history['epochs']} epochs)")
    print(f"\n{'effects on held-out cells (seen)':<40} {'model':>8} {'pert. mean':>10} {'global mean':>11}")
    for metric in ["pearson", "pearson_top20", "r2_top20", "jaccard_top20", "pearson_delta"]:
        values = [metrics.get(f"effects.seen.{metric}"), metrics.get(f"baseline.perturbation_mean.seen.{metric}"),
                  metrics.get(f"baseline.global_mean.seen.{metric}")]
        print(f"{metric:<40} " + " ".join(f"{v:>10.3f}" if v is not None else f"{'-':>10}" for v in values))
    baselines = ("effect_magnitude", "network_deconvolution", "modular_response", "control_correlation",
                 "alignment_target", "random")
    print(f"\n{'GRN (G0 block) vs known network':<32} {'model':>7} " + " ".join(f"{b[:9]:>9}" for b in baselines) + f" {'chance':>7}")
    for name in networks:
        for metric in ["precision_top20", "precision_top50", "auprc", "auroc"]:
            keys = [f"grn.network.{name}.{metric}"] + [f"baseline.{b}.grn.network.{name}.{metric}" for b in baselines]
            chance = metrics.get(f"grn.network.{name}.random_auprc") if metric == "auprc" else None
            values = [metrics.get(k) for k in keys] + [chance]
            print(f"{name + ' ' + metric:<32} " + " ".join(f"{v:>9.3f}" if v is not None else f"{'-':>9}" for v in values))
    ratio = metrics["effects.seen.pearson_top20"] / metrics["baseline.perturbation_mean.seen.pearson_top20"]
    print(f"model / per-perturbation mean, pearson_top20 on held-out cells: {ratio:.3f}")
    print(f"grn.n_edges {metrics.get('grn.n_edges')}, mean Wasserstein {metrics.get('grn.mean_wasserstein')}, "
          f"FOR {metrics.get('grn.false_omission_rate')}, iwelbo.test {metrics.get('iwelbo.test'):.1f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(args=vars(args), prepare_seconds=t_prep, history=model.history, metrics=metrics), indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
