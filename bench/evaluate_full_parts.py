"""Peak memory of two parts of `evaluate` on synthetic arrays of the full K562-essential shape (or a fraction of its
cells), to check the array accounting of `results/issue27_evaluate_memory.md`: `alignment_target_network` on the
training cells' delta and dosage, and `effect_metrics` + `effect_intervals` on perturbations x genes effects. Prints
the peak RSS above the RSS before the call (VmHWM reset just before it), in GB. Not a test; not in CI.

  PYTHONPATH=<code to measure> python bench/evaluate_full_parts.py --cells 50000"""
import argparse
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from prepare_profile import _hwm_gb, _reset_hwm


def extra_peak(f, *args)->tuple:
    "(peak RSS above the RSS before the call in GB, CPU s) of f(*args)"
    before = _hwm_gb("VmRSS")
    _reset_hwm()
    cpu = time.process_time()
    f(*args)
    return round(_hwm_gb() - before, 3), round(time.process_time() - cpu, 2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=50_000, help="training cells (full size: about 199,000)")
    parser.add_argument("--perturbations", type=int, default=2_050)
    parser.add_argument("--genes", type=int, default=8_500)
    args = parser.parse_args()
    from gpovae.baselines import alignment_target_network
    from gpovae.metrics import effect_metrics
    from gpovae.scoring import effect_intervals
    rng = np.random.default_rng(0)
    n, p, g = args.cells, args.perturbations, args.genes
    delta = np.abs(rng.standard_normal((n, p), dtype=np.float32))
    target = rng.integers(0, p, n)
    dosage = sp.csr_matrix((np.ones(n, dtype=np.float32), (np.arange(n), target)), shape=(n, p))
    nodes = [f"g{i}" for i in range(p)]
    print("alignment_target_network", dict(zip(("extra_gb", "cpu_s"), extra_peak(alignment_target_network, delta, dosage, nodes))))
    del delta, dosage
    genes = [f"g{i}" for i in range(g)]
    observed = pd.DataFrame(rng.standard_normal((p, g)), index=nodes, columns=genes)
    predicted = pd.DataFrame(rng.standard_normal((p, g), dtype=np.float32), index=nodes, columns=genes)
    baseline = pd.DataFrame(rng.standard_normal((p, g)), index=nodes, columns=genes)
    print("effect_metrics", dict(zip(("extra_gb", "cpu_s"), extra_peak(effect_metrics, predicted, observed))))
    print("effect_intervals", dict(zip(("extra_gb", "cpu_s"),
                                       extra_peak(effect_intervals, {"model": predicted, "mean": baseline}, observed))))
