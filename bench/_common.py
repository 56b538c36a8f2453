"Shared by the bench scripts: hyperparameter overrides from the command line, the per-kind table, the results file"
import json
import os
import platform
import subprocess
from pathlib import Path

import numpy as np


def _machine()->dict:
    "Commit, CPU and thread settings of this run, stored beside every result"
    try: commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError: commit = ""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    return dict(commit=commit, cpu=cpu, n_cpus=os.cpu_count(), omp_num_threads=os.environ.get("OMP_NUM_THREADS"))


_AT_START = _machine()   # read when the script starts: the commit whose code the run uses


def write_results(path, args, results):
    "Write the arguments, machine and results of a bench run as JSON to `path` (folders created) and say where"
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(args=vars(args), machine=_AT_START, results=results), indent=1, default=float))
    print(f"wrote {out}")


def parse_overrides(items:list)->dict:
    "`Config` overrides from NAME=VALUE strings: integers, floats, True/False, else words"
    overrides = {}
    for item in items:
        name, value = item.split("=", 1)
        for cast in (int, float):
            try: value = cast(value); break
            except ValueError: pass
        overrides[name] = {"True": True, "False": False}.get(value, value) if isinstance(value, str) else value
    return overrides


def print_kind_table(results:list, row, columns:list, legend:str, label=lambda r: (r["kind"],),
                     detail=lambda r: str(r["seed"])):
    "One line per screen (its `row`, named by `label` and `detail`), then the mean of each kind (grouped by `label`)"
    width = max(len(" ".join(label(r))) for r in results) + 1
    print(f"{'kind':<{width}} {'seed':>9} " + " ".join(f"{c[:9]:>9}" for c in columns))
    kinds = {}
    for result in results:
        values = row(result)
        kinds.setdefault(label(result), []).append([values[c] for c in columns])
        print(f"{' '.join(label(result)):<{width}} {detail(result):>9} " + " ".join(f"{values[c]:>9.3f}" for c in columns))
    print("mean per kind (second column: number of screens)")
    for name, values in kinds.items():
        means = np.nanmean(np.array(values, dtype=float), axis=0)
        print(f"{' '.join(name):<{width}} {len(values):>9} " + " ".join(f"{v:>9.3f}" for v in means))
    print(legend)
