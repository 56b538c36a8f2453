"""Scale of GPO-VAE on one machine: a training step with thousands of GRN nodes, `prepare` on a large screen,
and one training epoch streamed from a backed h5ad. Each measurement runs in its own process, so its peak
resident memory (RSS) is its own (the backed screen is written by one process and read by another). Prints a table and writes bench/results/scale.json. Not a test; not in CI.

    python bench/scale.py                                   # the sizes of the issue (long: see --help)
    python bench/scale.py --nodes 5000 --prepare-cells 50000 --backed-cells 200000   # a shorter run

The step is measured twice: with every GRN node without training cells in each step's plated prior,
and with `max_zero_rows=256` (an unbiased subsample of them, the default of the large presets).

The screens for `prepare` and the backed epoch are synthetic counts (Poisson with a few perturbation
shifts), not the simulator: the simulator's steady-state model is far slower than the data loading that
is measured here. Large files are written to --folder (default a temporary folder) and removed.
"""
import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import write_results

RESULT = "RESULT "


def peak_rss_gb()->float:
    "Peak resident memory of this process so far, GB"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def synthetic_screen(n_cells:int, n_genes:int, n_perturbations:int, seed:int=0):
    "A sparse Poisson screen: controls and single perturbations whose target and a few genes shift"
    import anndata as ad
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp
    rng = np.random.default_rng(seed)
    genes = [f"G{j:05d}" for j in range(n_genes)]
    labels = np.where(rng.random(n_cells) < 0.15, "non-targeting",
                      np.array(genes[:n_perturbations], dtype=object)[rng.integers(0, n_perturbations, n_cells)])
    rate = np.exp(rng.normal(-2.5, 1.5, n_genes)).clip(max=20)
    rows = []
    for start in range(0, n_cells, 10_000):                 # block by block: the dense rates never exist at once
        block = labels[start:start + 10_000]
        lam = np.broadcast_to(rate, (len(block), n_genes)).copy()
        perturbed = np.flatnonzero(block != "non-targeting")
        targets = np.array([int(g[1:]) for g in block[perturbed]])
        lam[perturbed, targets] *= 0.2                      # knock-down of the target
        lam[perturbed, (targets + 1) % n_genes] *= 3.       # and one downstream gene
        rows.append(sp.csr_matrix(rng.poisson(lam).astype(np.float32)))
    obs = pd.DataFrame({"gene": labels}, index=[f"c{i}" for i in range(n_cells)])
    return ad.AnnData(sp.vstack(rows, format="csr"), obs=obs, var=pd.DataFrame(index=genes))


def measure_step(n_nodes:int, n_perturbed:int, n_genes:int, repeats:int, max_zero_rows:int=0)->dict:
    "Training steps of the k562 preset (batch 512, 5 particles) with `n_nodes` GRN nodes; max_zero_rows 0: all"
    import torch
    sys.path.insert(0, str(Path(__file__).parent))
    from speed import Step
    overrides = {"max_zero_rows": max_zero_rows or None}     # None: all, whatever the preset's default
    step = Step("k562", n_genes=n_genes, n_nodes=n_nodes, n_g0=n_perturbed, overrides=overrides)
    step()                                                  # warm-up
    start = time.perf_counter()
    for _ in range(repeats): step()
    seconds = (time.perf_counter() - start) / repeats
    zero = f", max_zero_rows {max_zero_rows}" if max_zero_rows else ""
    return dict(what=f"training step, P = {n_nodes:,} nodes ({n_perturbed:,} perturbed), G = {n_genes:,}{zero}",
                seconds=seconds, peak_rss_gb=peak_rss_gb(), threads=torch.get_num_threads())


def measure_prepare(n_cells:int, n_genes:int, n_perturbations:int)->dict:
    "`prepare` (QC with doublets, nodes, split, OT pairing, effects) on an in-memory screen"
    import gpovae
    adata = synthetic_screen(n_cells, n_genes, n_perturbations)
    start = time.perf_counter()
    prepared = gpovae.prepare(adata, seed=0)
    seconds = time.perf_counter() - start
    return dict(what=f"prepare, {n_cells:,} cells x {n_genes:,} genes, {n_perturbations} perturbations",
                seconds=seconds, peak_rss_gb=peak_rss_gb(), steps=prepared.settings["seconds"])


def write_screen(n_cells:int, n_genes:int, n_perturbations:int, path:str)->dict:
    "Write a synthetic screen to `path` (h5ad, CSR)"
    start = time.perf_counter()
    synthetic_screen(n_cells, n_genes, n_perturbations).write_h5ad(path)
    return dict(what=f"write {n_cells:,} x {n_genes:,} h5ad", seconds=time.perf_counter() - start,
                peak_rss_gb=peak_rss_gb(), size_gb=Path(path).stat().st_size / 1024**3)


def measure_backed_epoch(path:str)->dict:
    "Open a screen backed, prepare it (no doublet calls) and read one training epoch of minibatches"
    import anndata as ad
    import gpovae
    from gpovae.loaders import make_loader
    adata = ad.read_h5ad(path, backed="r")
    start = time.perf_counter()
    prepared = gpovae.prepare(adata, doublets=False, seed=0)
    prepare_seconds = time.perf_counter() - start
    start = time.perf_counter()
    n_batches = sum(1 for _ in make_loader(prepared, "train", batch_size=512, seed=0))
    return dict(what=f"backed epoch, {adata.n_obs:,} cells x {adata.n_vars:,} genes (prepare {prepare_seconds:.0f} s)",
                seconds=time.perf_counter() - start, batches=n_batches, prepare_seconds=prepare_seconds,
                peak_rss_gb=peak_rss_gb(), prepare_steps=prepared.settings["seconds"])


def run_child(argv:list)->dict:
    "One measurement in a fresh process; its result dict"
    done = subprocess.run([sys.executable, __file__, "--child", *argv], capture_output=True, text=True)
    lines = [l for l in done.stdout.splitlines() if l.startswith(RESULT)]
    if done.returncode != 0 or not lines:
        return dict(what=" ".join(argv), error=(done.stderr or done.stdout)[-1500:])
    return json.loads(lines[-1][len(RESULT):])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--perturbed", type=int, default=1000)
    parser.add_argument("--step-genes", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--prepare-cells", type=int, default=200_000)
    parser.add_argument("--prepare-genes", type=int, default=5_000)
    parser.add_argument("--backed-cells", type=int, default=1_000_000)
    parser.add_argument("--backed-genes", type=int, default=2_000)
    parser.add_argument("--perturbations", type=int, default=200)
    parser.add_argument("--only", choices=["step", "prepare", "backed"], nargs="*")
    parser.add_argument("--folder", default=None, help="where the backed h5ad is written (default: a temporary folder)")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.add_argument("--out", default="bench/results/scale.json")
    args = parser.parse_args()
    if args.child:
        kind, *numbers = args.child
        if kind == "step": result = measure_step(*map(int, numbers))
        elif kind == "prepare": result = measure_prepare(*map(int, numbers))
        elif kind == "write": result = write_screen(*map(int, numbers[:3]), numbers[3])
        else: result = measure_backed_epoch(numbers[0])
        print(RESULT + json.dumps(result, default=float))
        return
    wanted = args.only or ["step", "prepare", "backed"]
    results = []
    if args.folder: Path(args.folder).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        path = str(Path(folder)/"backed.h5ad")
        jobs = {"step": [["step", args.nodes, args.perturbed, args.step_genes, args.repeats, 0],
                         ["step", args.nodes, args.perturbed, args.step_genes, args.repeats, 256]],
                "prepare": [["prepare", args.prepare_cells, args.prepare_genes, args.perturbations]],
                "backed": [["write", args.backed_cells, args.backed_genes, args.perturbations, path], ["backed", path]]}
        for kind in wanted:
            for job in jobs[kind]:
                results.append(run_child([str(a) for a in job]))
                print(json.dumps(results[-1], default=float)[:300], flush=True)
    print(f"\n{'measurement':<62} {'seconds':>9} {'peak RSS GB':>12}")
    for r in results:
        if "error" in r:
            print(f"{r['what']:<62} failed: {r['error'][-200:]}")
        else:
            print(f"{r['what']:<62} {r['seconds']:>9.2f} {r['peak_rss_gb']:>12.2f}")
    write_results(args.out, args, results)


if __name__ == "__main__":
    main()
