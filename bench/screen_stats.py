"""What the bench grid's screens look like: one row per kind (mean over seeds) of the statistics in `screens.screen_statistics`.

Zeros, median UMIs per cell, median cells per perturbation, perturbed genes, true edges among them, and
genes moved beyond |0.3| (log2 units, noise-free truth) per single perturbation. Writes
bench/results/screen_stats.json. SERGIO screens come from the cache that the other bench scripts fill.

    python bench/screen_stats.py [--kinds ... --seeds 0 1 2 --quick]
"""
import argparse

import numpy as np
from _common import write_results
from screens import KINDS, QUICK, make_screen, screen_statistics


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="bench/results/screen_stats.json")
    args = parser.parse_args()
    size = QUICK if args.quick else dict(n_cells=8000, n_genes=300, n_perturbations=30, n_combos=5)
    results = {kind: [screen_statistics(make_screen(kind, seed, size)) for seed in args.seeds] for kind in args.kinds}
    columns = list(next(iter(results.values()))[0])
    print(f"{'kind':<19}" + " ".join(f"{c[:13]:>13}" for c in columns))
    for kind, rows in results.items():
        print(f"{kind:<19}" + " ".join(f"{np.mean([r[c] for r in rows]):>13.3f}" for c in columns))
    write_results(args.out, args, results)


if __name__ == "__main__":
    main()
