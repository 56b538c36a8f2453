"""A genome-scale screen end to end: a synthetic screen shaped like the K562 essential screen (Replogle 2022: about
310,000 cells x 8,500 genes, 2,050 CRISPRi perturbations, about 150 cells each, no combinations), written as .h5ad,
then `gpovae train` and `gpovae evaluate` on it as child processes, exactly as a user runs them. Prints the wall
time, its share of the total and the peak resident memory (RSS) of every stage, the held-out effect ratio (GPO-VAE's
pearson_top20 on held-out cells over the per-perturbation training mean's) and the GRN AUPRC against the
simulator's network, and writes bench/results/end_to_end_scale{S}.json. Not a test; not in CI.

  python bench/end_to_end.py --scale 0.1 --threads 1          # about 31,000 cells x 2,700 genes, 205 perturbations
  python bench/end_to_end.py --scale 0.02 --max-epochs 3      # a quick check of the script itself
  python bench/end_to_end.py --scale 1.0 --folder /scratch    # the full size (hours on 2 cores)
  python bench/end_to_end.py --scale 1.0 --extrapolate bench/results/end_to_end_scale0.02.json \
      bench/results/end_to_end_scale0.1.json --epochs 34        # a power law per stage, read at the full size

The power law misses what is small at the scales it is fitted to: the GRN's warm start and its share of each
training step grow about with the cube of the perturbed genes (41 at 0.02, 205 at 0.1, 2,050 at full size), so
the extrapolated warm start and epochs are far too low at the full size; `bench/grn_scale.py` measures them there.

--scale multiplies the cells and the perturbations (so the cells per perturbation stay), and the genes by its square
root. Library sizes follow the genes: `--umis` (default 11,000, a K562 cell's typical UMI count) at 8,500 genes, in
proportion at fewer genes, so the zeros per cell stay about the same. The screen is written to --folder (default: a
temporary folder, removed at the end; never the repository) and reused from there when it exists.

Stages come from the lines the command prints (each line is timed when it arrives): the stage of a line is its
prefix (`prepare:`, `warm start:`, `train: epoch`, `matching:`, `evaluate:`, `export:`; the epochs start when the warm
start's `done` line comes). The peak RSS of a stage is
the process's high-water mark (VmHWM) where it rose during the stage, else the largest RSS polled (every 0.2 s).
"""
import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import write_results

K562 = dict(n_cells=310_000, n_genes=8_500, n_perturbations=2_050)
CLI = "import sys; from gpovae.cli import main; sys.exit(main())"
# (pattern at the start of a line, stage it opens); the first that matches wins, other lines keep the stage
STAGES = [(r"[\w ]+: still working|evaluate: done", None), (r"data:|control:", "read"), (r"prepare:", "prepare"), (r"train: up to|train: continuing", "build"),
          (r"warm start: done", "epochs"), (r"warm start:", "warm start"), (r"train: epoch", "epochs"), (r"matching:", "matching"),
          (r"evaluate:", "evaluate"), (r"export:", "export"),
          (r"\s*$|wrote |GPO-VAE against", "report")]


def screen_shape(scale:float)->dict:
    "Cells, genes and perturbations of a K562-essential-shaped screen at `scale`"
    return dict(n_cells=int(round(K562["n_cells"] * scale)), n_genes=int(round(K562["n_genes"] * math.sqrt(scale))),
                n_perturbations=max(2, int(round(K562["n_perturbations"] * scale))))


def write_screen(path:Path, scale:float, umis:float, seed:int, threads:int)->dict:
    "Simulate the screen and write it as h5ad; what it looks like"
    import numpy as np
    from gpovae.simulate import simulate_perturbseq
    shape = screen_shape(scale)
    start = time.perf_counter()
    adata = simulate_perturbseq(**shape, n_combos=0, library_size=umis * shape["n_genes"] / K562["n_genes"],
                                seed=seed, n_threads=threads)
    adata.write_h5ad(path)
    X = adata.X
    per_cell = np.asarray(X.sum(1)).ravel()
    cells = adata.obs["gene"].value_counts()
    return dict(shape, seconds=time.perf_counter() - start, nnz=int(X.nnz), zero_fraction=1 - X.nnz / np.prod(X.shape),
                median_umis=float(np.median(per_cell)), n_true_edges=len(adata.uns["grn_true"]),
                median_cells_per_perturbation=float(cells.drop("non-targeting").median()),
                file_gb=path.stat().st_size / 1e9)


def _status(pid:int)->dict:
    "VmRSS and VmHWM of `pid` in GB (empty once it has ended)"
    try: lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError: return {}
    return {k: int(v.split()[0]) / 1e6 for k, v in (l.split(":", 1) for l in lines) if k in ("VmRSS", "VmHWM")}


def _stage_of(line:str, current:str)->str:
    for pattern, stage in STAGES:
        if re.match(pattern, line): return stage or current
    return current


def run_command(argv:list, env:dict, log:Path)->dict:
    "Run the gpovae command `argv` as a child; per stage: seconds and peak RSS (GB); its stdout goes to `log` too"
    child = subprocess.Popen([sys.executable, "-c", CLI, *argv], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, bufsize=1)
    state = dict(stage="start", since=time.perf_counter(), hwm=0., rss=0.)
    stages, lock, done = {}, threading.Lock(), threading.Event()

    def close(now:float, hwm_now:float):
        "Book the time and peak memory of the current stage, up to `now`"
        entry = stages.setdefault(state["stage"], dict(seconds=0., peak_rss_gb=0.))
        entry["seconds"] += now - state["since"]
        peak = hwm_now if hwm_now > state["hwm"] else state["rss"]
        entry["peak_rss_gb"] = max(entry["peak_rss_gb"], peak)

    def poll():
        while not done.wait(0.2):
            status = _status(child.pid)
            with lock: state["rss"] = max(state["rss"], status.get("VmRSS", 0.))
    threading.Thread(target=poll, daemon=True).start()
    start = time.perf_counter()
    with open(log, "w") as out:
        for line in child.stdout:
            now = time.perf_counter()
            out.write(f"{now - start:9.1f} {line}")
            print(f"  {now - start:7.1f} s | {line}", end="", flush=True)
            stage = _stage_of(line, state["stage"])
            if stage != state["stage"]:
                status = _status(child.pid)
                with lock:
                    close(now, status.get("VmHWM", 0.))
                    state.update(stage=stage, since=now, hwm=status.get("VmHWM", state["hwm"]), rss=status.get("VmRSS", 0.))
    status = _status(child.pid)     # gone by now, mostly: the last stage's peak is then the polled one
    code = child.wait()
    done.set()
    with lock: close(time.perf_counter(), status.get("VmHWM", 0.))
    if code != 0:
        raise SystemExit(f"gpovae {' '.join(argv)} failed (exit {code}); its output is in {log}")
    total = time.perf_counter() - start
    return dict(stages=stages, seconds=total, peak_rss_gb=max(s["peak_rss_gb"] for s in stages.values()))


def _epoch_split(stages:dict, log:Path)->dict:
    "Without epoch lines, split the fit into epochs (the seconds its end line gives) and the rest (warm start and matching)"
    if "epochs" in stages or "build" not in stages: return stages
    match = re.search(r"train: (\d+) epochs in ([\d.]+) s", log.read_text())
    if match is None: return stages
    seconds, rest = float(match.group(2)), stages.pop("build")
    out = {}
    for name, entry in stages.items():      # keep the order of the stages
        out[name] = entry
        if name == "prepare":
            out["build + warm start + matching"] = dict(seconds=rest["seconds"] - seconds, peak_rss_gb=rest["peak_rss_gb"])
            out["epochs"] = dict(seconds=seconds, peak_rss_gb=rest["peak_rss_gb"])
    return out


def quality(run:Path)->dict:
    "Held-out effect ratio and GRN AUPRC (with the best classical baseline's) from the run's metrics.json"
    import json
    m = json.loads((run/"metrics.json").read_text())
    baselines = {k.split(".")[1]: v for k, v in m.items() if k.startswith("baseline.") and k.endswith(".grn.truth.auprc")
                 and k.split(".")[1] != "random"}
    best = max(baselines, key=baselines.get) if baselines else None
    return dict(effects_model=m.get("effects.seen.pearson_top20"), effects_mean=m.get("baseline.perturbation_mean.seen.pearson_top20"),
                effect_ratio=m.get("effects.seen.pearson_top20", math.nan) / m.get("baseline.perturbation_mean.seen.pearson_top20", math.nan),
                grn_auprc=m.get("grn.truth.auprc"), grn_random_auprc=m.get("grn.truth.random_auprc"),
                grn_best_baseline=best, grn_best_baseline_auprc=baselines.get(best), epochs=m.get("train.epochs"),
                train_seconds=m.get("train.seconds"))


def print_table(title:str, result:dict):
    total = result["seconds"]
    print(f"\n{title}: {total:,.0f} s ({total / 3600:.2f} h), peak RSS {result['peak_rss_gb']:.2f} GB")
    print(f"{'stage':<30}{'seconds':>10}{'share':>8}{'peak RSS GB':>13}")
    for stage, s in result["stages"].items():
        print(f"{stage:<30}{s['seconds']:>10.1f}{s['seconds'] / total:>8.1%}{s['peak_rss_gb']:>13.2f}")


def extrapolate(files:list, scale:float=1.0, epochs:float|None=None):
    "Per stage, a power law in the scale through the runs of `files` (least squares in log-log), read at `scale`"
    import json
    import numpy as np
    runs = sorted((json.loads(Path(f).read_text()) for f in files), key=lambda r: r["args"]["scale"])
    scales = np.array([r["args"]["scale"] for r in runs])
    epochs = epochs or max(r["results"]["quality"]["epochs"] for r in runs)   # the uncapped run's count
    print(f"\nextrapolated to scale {scale:g} from scales {', '.join(f'{s:g}' for s in scales)} "
          f"(power law per stage; the epochs stage per epoch, times {epochs:g} epochs)")
    print(f"{'stage':<30}{'seconds':>10}{'exponent':>10}{'peak RSS GB':>13}")
    total, peak = 0., 0.
    for command in ("train", "evaluate"):
        names = [n for n in runs[-1]["results"][command]["stages"] if all(n in r["results"][command]["stages"] for r in runs)]
        for name in names:
            per = [r["results"][command]["stages"][name] for r in runs]
            unit = [r["results"]["quality"]["epochs"] if name == "epochs" else 1. for r in runs]
            seconds = np.array([p["seconds"] / u for p, u in zip(per, unit)])
            rss = np.array([p["peak_rss_gb"] for p in per])
            b, a = np.polyfit(np.log(scales), np.log(np.maximum(seconds, 1e-3)), 1)
            guess = math.exp(a) * scale ** b * (epochs if name == "epochs" else 1.)
            rb, ra = np.polyfit(np.log(scales), np.log(rss), 1)
            total, peak = total + guess, max(peak, math.exp(ra) * scale ** rb)
            print(f"{command + ': ' + name:<30}{guess:>10.0f}{b:>10.2f}{math.exp(ra) * scale ** rb:>13.2f}")
    print(f"{'total':<30}{total:>10.0f} s = {total / 3600:.1f} h; peak RSS {peak:.1f} GB")
    print("the warm start and the epochs grow with the cube of the perturbed genes beyond these scales: "
          "measure them with bench/grn_scale.py")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.1, help="1.0: the K562 essential screen's size")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (--cpu-threads) and OMP_NUM_THREADS")
    parser.add_argument("--preset", default="k562")
    parser.add_argument("--umis", type=float, default=11_000., help="median UMIs of a good cell at 8,500 genes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, default=None, help="cap the epochs (a quick check; default: the preset's)")
    parser.add_argument("--n-bootstrap", type=int, default=200, help="gpovae evaluate's --n-bootstrap")
    parser.add_argument("--backed", action="store_true", help="train with --backed (rows streamed from disk)")
    parser.add_argument("--folder", default=None, help="where the screen and the run are written (default: a temporary folder)")
    parser.add_argument("--out", default=None, help="results file (default bench/results/end_to_end_scale{S}.json)")
    parser.add_argument("--extrapolate", nargs="+", metavar="JSON", help="only extrapolate the stage times of these "
                        "results files (two or more scales) to --scale, with --epochs epochs")
    parser.add_argument("--epochs", type=float, default=None, help="epochs for --extrapolate (default: the most any run had)")
    args = parser.parse_args()
    if args.extrapolate:
        extrapolate(args.extrapolate, args.scale, args.epochs)
        return
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    if args.folder: Path(args.folder).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.folder) as scratch:
        folder = Path(args.folder or scratch)
        data = folder/f"k562like_scale{args.scale:g}_seed{args.seed}_umis{args.umis:g}.h5ad"
        screen = None
        if not data.exists():
            print(f"simulating a K562-essential-shaped screen at scale {args.scale:g}: {screen_shape(args.scale)}", flush=True)
            screen = write_screen(data, args.scale, args.umis, args.seed, args.threads)
            print(f"wrote {data} in {screen['seconds']:.0f} s: {screen}", flush=True)
        run = folder/f"run_scale{args.scale:g}"
        train = ["train", "--data", str(data), "--out", str(run), "--overwrite", "--preset", args.preset,
                 "--seed", str(args.seed), "--cpu-threads", str(args.threads)]
        train += ["--max-epochs", str(args.max_epochs)] if args.max_epochs else []
        train += ["--backed"] if args.backed else []
        print(f"gpovae {' '.join(train)}", flush=True)
        trained = run_command(train, env, folder/"train.log")
        trained["stages"] = _epoch_split(trained["stages"], folder/"train.log")
        scores = quality(run)
        evaluate = ["evaluate", str(run), "--n-bootstrap", str(args.n_bootstrap)]
        print(f"gpovae {' '.join(evaluate)}", flush=True)
        evaluated = run_command(evaluate, env, folder/"evaluate.log")
        rescored = quality(run)
    print_table(f"gpovae train, scale {args.scale:g} {screen_shape(args.scale)}, {args.threads} thread(s)", trained)
    print_table("gpovae evaluate", evaluated)
    print(f"\nheld-out effect ratio (pearson_top20, GPO-VAE / per-perturbation mean): {scores['effect_ratio']:.3f} "
          f"({scores['effects_model']:.3f} / {scores['effects_mean']:.3f}); after gpovae evaluate {rescored['effect_ratio']:.3f}")
    print(f"GRN AUPRC vs the simulator's network: {scores['grn_auprc']:.3f} (random {scores['grn_random_auprc']:.3f}, "
          f"best classical baseline {scores['grn_best_baseline']} {scores['grn_best_baseline_auprc']:.3f}); "
          f"{scores['epochs']} epochs")
    out = args.out or f"bench/results/end_to_end_scale{args.scale:g}.json"
    write_results(out, args, dict(shape=screen_shape(args.scale), screen=screen, train=trained, evaluate=evaluated,
                                  quality=scores, quality_after_evaluate=rescored))


if __name__ == "__main__":
    main()
