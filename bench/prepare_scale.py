"""Benchmark `gpovae.prepare` at scale: simulate 100,000 cells x 2,000 genes x 200 perturbations, prepare
them in memory and/or from a backed h5ad, print per-step seconds, and merge the results into
bench/results/prepare_scale.json (one entry per mode). Not a test.

  python bench/prepare_scale.py                                     # simulate, prepare in memory
  python bench/prepare_scale.py --h5ad /tmp/screen.h5ad --mode backed   # reuse (or first write) the file
Run each mode in its own process (e.g. under `/usr/bin/time -v`) to read its peak memory."""
import argparse
import json
import platform
import resource
import time
from pathlib import Path

import anndata as ad
import torch

from gpovae.simulate import simulate_perturbseq
from gpovae.loaders import make_loader
from gpovae.prepared import prepare


def peak_rss_gib()->float:
    "Peak resident memory of this process so far (GiB)"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def run(adata, mode:str, args)->dict:
    "Prepare `adata`, time 20 training batches, return a result row"
    start = time.perf_counter()
    prepared = prepare(adata, seed=0, doublets=not args.no_doublets, pairing=args.pairing)
    total = time.perf_counter() - start
    start = time.perf_counter()
    n_batches = 0
    for n_batches, _ in enumerate(make_loader(prepared, batch_size=512, seed=0), start=1):
        if n_batches == 20: break
    loader_seconds = time.perf_counter() - start
    print(prepared.summary())
    return dict(mode=mode, doublets=not args.no_doublets, pairing=args.pairing, seconds=prepared.settings["seconds"],
                prepare_wall_s=round(total, 2), loader_s_per_batch=round(loader_seconds / max(n_batches, 1), 4),
                n_nodes=prepared.n_nodes, n_g0=prepared.n_g0, qc_fail=float(prepared.artifact.mean()),
                peak_rss_gib=round(peak_rss_gib(), 2))


def load(args):
    "The screen: read from --h5ad when it exists, else simulate (and write --h5ad when given)"
    path = None if args.h5ad is None else Path(args.h5ad)
    if path is None or not path.exists():
        start = time.perf_counter()
        adata = simulate_perturbseq(n_cells=args.n_cells, n_genes=args.n_genes, n_perturbations=args.n_perturbations,
                                    n_combos=20, seed=0)
        print(f"simulated {adata.n_obs} x {adata.n_vars} in {time.perf_counter() - start:.1f} s (nnz {adata.X.nnz:,})")
        if path is not None: adata.write_h5ad(path)
        if args.mode == "memory": return adata
    return ad.read_h5ad(path, backed="r" if args.mode == "backed" else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-cells", type=int, default=100_000)
    parser.add_argument("--n-genes", type=int, default=2_000)
    parser.add_argument("--n-perturbations", type=int, default=200)
    parser.add_argument("--pairing", default="ot")
    parser.add_argument("--no-doublets", action="store_true", help="skip scrublet")
    parser.add_argument("--mode", choices=["memory", "backed"], default="memory")
    parser.add_argument("--h5ad", help="screen file to reuse, or to write after simulating (needed for --mode backed)")
    args = parser.parse_args()
    if args.mode == "backed" and args.h5ad is None: parser.error("--mode backed needs --h5ad")
    row = run(load(args), args.mode, args)
    print(f"\n{'step':16s}{'seconds':>10s}")
    for step, seconds in row["seconds"].items(): print(f"{step:16s}{seconds:10.2f}")
    print(f"{'peak RSS (GiB)':16s}{row['peak_rss_gib']:10.2f}\n{'s / batch of 512':16s}{row['loader_s_per_batch']:10.4f}")
    out = Path(__file__).parent/"results"/"prepare_scale.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(out.read_text()) if out.exists() else {}
    key = f"{args.n_cells}x{args.n_genes}x{args.n_perturbations}/{args.mode}/{'doublets' if row['doublets'] else 'no-doublets'}"
    results[key] = dict(row, torch_threads=torch.get_num_threads(), machine=platform.machine())
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out} [{key}]")


if __name__ == "__main__":
    main()
