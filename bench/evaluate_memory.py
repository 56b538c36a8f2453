"""Memory profile of `evaluate()` as `gpovae evaluate RUN` calls it: the run's model loaded, its screen prepared
(prepare is not profiled here, see `prepare_profile.py`), one torch thread, then `evaluate()` part by part:
`training_effects`, `effect_scores`, `grn_scores`, `cell_scores`, `heldout_iwelbo`. For each part: CPU seconds
(`time.process_time`), the peak resident memory (VmHWM, reset as the part starts, so a part's peak includes what
earlier parts still hold) and the resident memory after it. `evaluate` itself is called, the parts wrapped.
Inside the parts, the functions listed in `_WATCHED` are wrapped: a thread samples VmRSS every 5 ms and books the
largest value seen while each of them runs (nested calls book to every open one), with their CPU seconds.
Optionally dumps the metrics dict, or compares it with an earlier dump. Not a test; not in CI.

  python bench/evaluate_memory.py RUN --dump /tmp/before.json     # RUN: a copy of a run folder (nothing is written into it)
  python bench/evaluate_memory.py RUN --compare /tmp/before.json
Run it under `/usr/bin/time -v` for the peak RSS of the whole process."""
import argparse
import functools
import json
import sys
import threading
import time
from pathlib import Path

from prepare_profile import _hwm_gb, _reset_hwm

_WATCHED = {   # module: names looked up in it at call time
    "scoring": ["observed_effects", "_baselines", "effect_metrics", "effect_intervals", "log_normalize",
                "grn_statistical_metrics", "_network_scores", "effect_magnitude_network", "control_correlation_network",
                "_alignment_target", "network_deconvolution_network", "modular_response_network", "grn_intervals",
                "embed_genes", "_statistics_cells"],
    "cells": ["cell_embedding", "_logged_cells", "_sampled_cells", "cell_baselines", "population_scores"],
}


_PARTS = ["training_effects", "effect_scores", "grn_scores", "cell_scores", "heldout_iwelbo"]   # called by `evaluate`, in this order


class Sampler:
    "VmRSS sampled every `every` s; `peaks[name]`: the largest value while `name` was open"
    def __init__(self, every:float=0.005):
        self.open, self.peaks, self.cpu, self.calls, self.every = {}, {}, {}, {}, every
        self.stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
    def _run(self):
        while not self.stop.wait(self.every): self.sample()
    def sample(self):
        rss = _hwm_gb("VmRSS")
        for name in list(self.open): self.peaks[name] = max(self.peaks.get(name, 0.), rss)
    def wrap(self, name:str, f):
        @functools.wraps(f)
        def wrapped(*args, **kwargs):
            self.sample()
            self.open[name] = self.open.get(name, 0) + 1
            cpu = time.process_time()
            try: return f(*args, **kwargs)
            finally:
                self.sample()
                self.cpu[name] = self.cpu.get(name, 0.) + time.process_time() - cpu
                self.calls[name] = self.calls.get(name, 0) + 1
                self.open[name] -= 1
                if not self.open[name]: del self.open[name]
        return wrapped


def profile(folder:Path, n_bootstrap:int=200)->tuple:
    "(metrics, part rows, function rows) of `evaluate` on the run in `folder`, part by part"
    import torch
    from gpovae import cells, run_folder, scoring
    from gpovae.pipeline import prepare_screen, read_screen
    torch.set_num_threads(1)
    model, settings = run_folder.load_run(folder)
    prepared = prepare_screen(read_screen(settings["data"]), settings)
    torch.set_num_threads(1)
    sampler = Sampler()
    for module_name, names in _WATCHED.items():
        module = {"scoring": scoring, "cells": cells}[module_name]
        for name in names: setattr(module, name, sampler.wrap(name, getattr(module, name)))
    model.predict_effects = sampler.wrap("predict_effects", model.predict_effects)
    rows, start_gb = [], _hwm_gb("VmRSS")
    def part(name, f):
        @functools.wraps(f)
        def measured(*args, **kwargs):
            _reset_hwm()
            cpu = time.process_time()
            value = f(*args, **kwargs)
            rows.append(dict(part=name, cpu=round(time.process_time() - cpu, 2), peak_gb=round(_hwm_gb(), 3),
                             end_gb=round(_hwm_gb("VmRSS"), 3)))
            return value
        return measured
    for name in _PARTS: setattr(scoring, name, part(name, getattr(scoring, name)))
    cpu = time.process_time()
    metrics = scoring.evaluate(model, prepared, n_bootstrap=n_bootstrap)
    rows.append(dict(part="evaluate", cpu=round(time.process_time() - cpu, 2), peak_gb=None, end_gb=round(_hwm_gb("VmRSS"), 3)))
    sampler.stop.set()
    functions = [dict(function=name, calls=sampler.calls[name], cpu=round(sampler.cpu[name], 2),
                      peak_gb=round(peak, 3)) for name, peak in sampler.peaks.items()]
    return metrics, [dict(part="(after prepare)", cpu=None, peak_gb=None, end_gb=round(start_gb, 3))] + rows, functions


def compare(metrics:dict, earlier:dict)->list:
    "Lines naming every key that differs (with both values), is new, or is gone"
    lines = [f"gone: {k}" for k in sorted(set(earlier) - set(metrics))]
    lines += [f"new: {k}" for k in sorted(set(metrics) - set(earlier))]
    for k in sorted(set(metrics) & set(earlier)):
        a, b = earlier[k], metrics[k]
        if a != b: lines.append(f"{k}: {a!r} -> {b!r} (abs diff {abs(a - b):.3g})")
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--n-bootstrap", type=int, default=200)
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args()
    metrics, parts, functions = profile(args.run, args.n_bootstrap)
    import pandas as pd
    print(pd.DataFrame(parts).to_string(index=False))
    print(pd.DataFrame(functions).sort_values("peak_gb", ascending=False).to_string(index=False))
    if args.dump: args.dump.write_text(json.dumps(metrics, indent=1, sort_keys=True))
    if args.compare:
        lines = compare(metrics, json.loads(args.compare.read_text()))
        print(f"{len(metrics)} keys; {len(lines)} differ from {args.compare}")
        print("\n".join(lines))
    sys.stdout.flush()
