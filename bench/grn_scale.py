"""How the GRN's share of a fit grows with the number of perturbed genes: one warm-start step and one training step.

The GRN's total effects solve a |G0| x |G0| system for each mask sample, and the gradient with respect to every
possible edge is a dense |G0| x T x P product, so the warm start and each training step grow about with the cube of
the perturbed genes. `bench/end_to_end.py --extrapolate` fits a power law to runs at scales 0.02 and 0.1 (41 and 205
perturbed genes), where this term is still small; this script measures it directly at the sizes a user brings
(the K562 essential screen has about 2,050 perturbed genes), on the synthetic shapes of `bench/speed.py`:
GRN nodes = 1.75 x |G0| (the ratio of the scale-0.1 end-to-end screen), 8,500 genes for the training step.

Per size it prints CPU seconds of one warm-start step (4 mask samples, every perturbation, as `warm_start_grn`) and
of one training step (`TrainingPlan`'s, batch 512, 5 particles) with the GRN fit on every perturbation and on
`max_alignment_rows` of them, and the warm start (1,500 steps, 3 starts screened after a third) in hours at that
rate; writes bench/results/grn_scale.json. Not a test; not run in CI.

  python bench/grn_scale.py                      # |G0| 205, 622, 1,000, 2,050; 1 thread
  python bench/grn_scale.py --g0 205 2050 --threads 2
"""
import argparse
import statistics
import time

import torch

from _common import write_results
from speed import Step
from gpovae.config import Config
from gpovae.losses import total_effect_alignment

NODES_PER_G0, N_GENES = 1.75, 8_500
WARM_START_STEP_EQUIVALENTS = 1_000 + 1_500    # 3 starts of 500 steps, then 1,000 more for the kept one


def cpu_seconds(run, repeats:int)->float:
    "Median CPU seconds of `run()` after one unmeasured call"
    run()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return statistics.median(times)


def warm_start_step(step:Step):
    "A closure doing one warm-start step (every perturbation, 4 mask samples) on `step`'s module"
    grn = step.module.grn
    optimizer = torch.optim.Adam([grn.mask_logits, grn.strength_raw, grn.shock], lr=0.05)
    generator = torch.Generator().manual_seed(0)
    def run():
        loss = total_effect_alignment(step.module, step.data["targets"], Config.edge_cost, 4, generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return run


def measure(n_g0:int, repeats:int)->dict:
    "CPU seconds of a warm-start step and of training steps with all and with `max_alignment_rows` perturbations"
    shape = dict(preset="k562", n_genes=N_GENES, n_nodes=round(NODES_PER_G0 * n_g0), n_g0=n_g0, n_cells=250_000)
    row = dict(n_g0=n_g0, n_nodes=shape["n_nodes"], n_genes=N_GENES)
    row["warm_start_step_s"] = cpu_seconds(warm_start_step(Step(**shape)), repeats)
    row["warm_start_h"] = row["warm_start_step_s"] * WARM_START_STEP_EQUIVALENTS / 3600
    for name, rows in (("all", None), ("subset", Config.max_alignment_rows)):
        row[f"train_step_{name}_s"] = cpu_seconds(Step(**shape, overrides=dict(max_alignment_rows=rows)), repeats)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--g0", type=int, nargs="+", default=[205, 622, 1_000, 2_050], help="perturbed genes |G0|")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default="bench/results/grn_scale.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    print(f"{'|G0|':>6} {'nodes':>6} {'warm step s':>12} {'warm start h':>13} {'train step s (all)':>19} "
          f"{'(' + str(Config.max_alignment_rows) + ' rows)':>12}   CPU seconds, {args.threads} thread(s)")
    for n_g0 in args.g0:
        row = measure(n_g0, args.repeats)
        rows.append(row)
        print(f"{row['n_g0']:>6} {row['n_nodes']:>6} {row['warm_start_step_s']:>12.2f} {row['warm_start_h']:>13.2f} "
              f"{row['train_step_all_s']:>19.2f} {row['train_step_subset_s']:>12.2f}", flush=True)
    write_results(args.out, args, rows)


if __name__ == "__main__":
    main()
