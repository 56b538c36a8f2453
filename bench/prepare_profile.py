"""Profile `gpovae.prepare` as `gpovae train` calls it (the h5ad read into memory, the control label found in the
data, every other option at prepare's default, seed 0, one torch thread): per step the wall seconds, the CPU seconds
and the peak resident memory (VmHWM, reset before each step), and optionally a dump of every output of the
`PreparedData` to compare two versions of the code for equality. Not a test; not in CI.

  python bench/prepare_profile.py SCREEN.h5ad --dump /tmp/before.pkl        # profile, and keep the outputs
  python bench/prepare_profile.py SCREEN.h5ad --compare /tmp/before.pkl     # profile, and assert the same outputs
Run it under `/usr/bin/time -v` with `--no-reset` for the peak RSS of the whole process (one process per measurement)."""
import argparse
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp


def _hwm_gb(field:str="VmHWM")->float:
    "Peak resident memory of this process since the last reset (GB); `field='VmRSS'`: the resident memory now"
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(field))
    return int(line.split()[1]) / 1e6


def _reset_hwm():
    "Start a new peak: write 5 to clear_refs (Linux); a no-op where that is refused"
    try: Path("/proc/self/clear_refs").write_text("5")
    except OSError: pass


def profiled_timer(rows:list, reset:bool=True):
    "A `_StepTimer` that also books CPU seconds and the step's peak RSS in `rows` (without `reset`: the peak so far)"
    from gpovae import prepared as module
    base = module._StepTimer

    class Timer(base):
        def __enter__(self):
            if reset: _reset_hwm()
            self.cpu = time.process_time()
            return super().__enter__()
        def __exit__(self, *exc):
            super().__exit__(*exc)
            rows.append(dict(step=self.step, wall=self.seconds[self.step], cpu=round(time.process_time() - self.cpu, 3),
                             peak_gb=round(_hwm_gb(), 3), end_gb=round(_hwm_gb("VmRSS"), 3)))
    module._StepTimer = Timer


def outputs(prepared, counts:bool=False)->dict:
    "Every output of a PreparedData, in plain types (the settings without their timings); `counts`: the counts of every cell too"
    keys = ["genes", "nodes", "n_g0", "node_gene_index", "labels", "dosage", "artifact", "qc", "qc_thresholds",
            "split", "pair", "delta", "cf_table", "cf_index", "covariate", "covariate_names", "n_cells_per_node",
            "adata_rows", "train_effects"]
    out = {key: getattr(prepared, key) for key in keys}
    out["delta"] = np.asarray(out["delta"])          # computed from the pairs when asked for (`PairedDelta`)
    out["settings"] = {k: v for k, v in prepared.settings.items() if k != "seconds"}
    out["cell_names"] = np.asarray(prepared.adata.obs_names)[prepared.adata_rows]   # the prepared cells, in order
    out["adata_shape"] = prepared.adata.shape
    if counts: out["counts"] = prepared.counts(np.arange(prepared.n_cells))
    return out


def _same(a, b)->bool:
    if isinstance(a, dict): return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (pd.DataFrame, pd.Series)): return type(a) is type(b) and a.equals(b) and list(a.index) == list(b.index)
    if sp.issparse(a): return sp.issparse(b) and a.shape == b.shape and a.dtype == b.dtype and (a != b).nnz == 0
    if isinstance(a, np.ndarray): return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, (list, tuple)): return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def compare(now:dict, before:dict)->list:
    "Names of the outputs that differ (exact equality: same dtypes, same values, same order)"
    return [key for key in before if key not in now or not _same(now[key], before[key])] + \
           [key for key in now if key not in before]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("h5ad")
    parser.add_argument("--dump", help="pickle the outputs of the PreparedData here")
    parser.add_argument("--compare", help="assert the outputs equal those pickled here")
    parser.add_argument("--perturbation-key", default="gene")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-key", default=None, help="prepare's batch_key")
    parser.add_argument("--backed", action="store_true", help="read the h5ad backed (as `gpovae train --backed`)")
    parser.add_argument("--filters", action="store_true", help="prepare with filters=True")
    parser.add_argument("--counts", action="store_true", help="compare the counts of every prepared cell too")
    parser.add_argument("--ignore", nargs="*", default=[], help="outputs left out of the comparison")
    parser.add_argument("--no-reset", action="store_true", help="keep the peak RSS of the whole process (for "
                        "`/usr/bin/time -v`, whose maximum the per-step resets would shorten); steps then show the peak so far")
    args = parser.parse_args()
    import anndata
    from gpovae.pipeline import control_label
    from gpovae.prepared import prepare
    from gpovae.threads import torch_threads
    rows = []
    profiled_timer(rows, reset=not args.no_reset)
    wall, cpu = time.perf_counter(), time.process_time()
    adata = anndata.read_h5ad(args.h5ad, backed="r" if args.backed else None)
    rows.append(dict(step="read", wall=round(time.perf_counter() - wall, 3), cpu=round(time.process_time() - cpu, 3),
                     peak_gb=round(_hwm_gb(), 3), end_gb=round(_hwm_gb("VmRSS"), 3)))
    options = {"perturbation_key": args.perturbation_key, "batch_key": args.batch_key, "filters": args.filters}
    options["control"] = control_label(adata, options)
    with torch_threads(args.threads):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        prepared = prepare(adata, seed=0, **options)
        total_wall, total_cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    print(prepared.summary())
    print(f"\n{'step':16s}{'wall s':>9s}{'CPU s':>9s}{'peak GB':>9s}{'end GB':>9s}")
    for row in rows: print(f"{row['step']:16s}{row['wall']:9.2f}{row['cpu']:9.2f}{row['peak_gb']:9.3f}{row['end_gb']:9.3f}")
    print(f"{'prepare total':16s}{total_wall:9.2f}{total_cpu:9.2f}")
    now = outputs(prepared, args.counts)
    if args.dump:
        with open(args.dump, "wb") as f: pickle.dump(now, f)
        print(f"wrote {args.dump}")
    if args.compare:
        with open(args.compare, "rb") as f: before = pickle.load(f)
        differ = [key for key in compare(now, before) if key not in args.ignore]
        if differ: sys.exit(f"outputs differ from {args.compare}: {differ}")
        print(f"identical outputs to {args.compare}: {len(set(before) - set(args.ignore))} fields, exact equality"
              + (f" (not compared: {args.ignore})" if args.ignore else ""))


if __name__ == "__main__":
    main()
