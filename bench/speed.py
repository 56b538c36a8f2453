"""Training-step speed of GPO-VAE at the published shapes, against this machine's fp32 GEMM throughput.

Builds the module of a preset (`module_from_config`) for synthetic data of a given shape, a synthetic
minibatch with the keys of `gpovae.vae.toy_batch` (512 cells: controls, singles and a few combos of the
perturbed nodes, artifact cells, counterfactual references) and times the full training step the way
`TrainingPlan` runs it: `compute_losses` forward with a per-step seeded generator, backward, gradient
clipping and the Adam step. In the same run it measures the fp32 GEMM throughput (square matrices, same
thread count; the better of torch.mm and of oneDNN's product, which `gpovae.kernels` uses where the CPU
has AVX-512) and counts the FLOPs of one step (torch.utils.flop_counter: matrix
products only; solves and element-wise work are not counted). Prints, per shape and mode, step
seconds, cells/s, GFLOP/step, achieved GFLOP/s, the achieved fraction of the GEMM peak and, for the
published shapes, cells/s as a multiple of the published code's step (`PUBLISHED_CELLS_PER_S`); writes
bench/results/speed.json (one entry per shape and mode). Not a test; not run in CI.

Modes: `32-true` is the default training (float32); `bf16-mixed` runs the losses under bfloat16
autocast as Lightning's `precision="bf16-mixed"` does (its share is also given of the bfloat16 GEMM
peak). Steps run inside `threads.reuse_freed_memory`, as `fit` trains (`--malloc plain`: glibc's
defaults).

  python bench/speed.py                       # adamson, k562 and a 50k x 2k / P 500 screen
  python bench/speed.py --quick               # smaller shapes, fewer repeats (a check on a busy machine)
  python bench/speed.py --shapes adamson --profile   # also print the torch profiler's top operators
  python bench/speed.py --modes 32-true --malloc plain       # float32 only, without reusing freed memory
  python bench/speed.py --shapes k562 --set max_zero_rows=256   # with hyperparameters other than the preset's
  python bench/speed.py --onednn off          # float32 products through torch's default BLAS (MKL) only
"""
import argparse
import contextlib
import json
import platform
import resource
import statistics
import time
from pathlib import Path

import torch

from _common import parse_overrides
from gpovae.config import PRECISIONS
from gpovae.kernels import linear, onednn_available, onednn_default, onednn_products
from gpovae.threads import reuse_freed_memory

# shape of the data: preset, genes G, GRN nodes P, perturbed nodes |G0|, training cells (epoch length)
SHAPES = {
    "adamson": dict(preset="adamson", n_genes=5_000, n_nodes=415, n_g0=68, n_cells=65_000),
    "k562": dict(preset="k562", n_genes=8_000, n_nodes=1_546, n_g0=622, n_cells=83_000),
    "screen50k": dict(preset="k562", n_genes=2_000, n_nodes=500, n_g0=200, n_cells=50_000),
}
BATCH, PARTICLES, LATENT = 512, 5, 100
MODES = PRECISIONS
# cells/s of the published code's training step at these shapes (same synthetic setup), measured once on a
# 2-core machine of this kind; the host's speed moves, so compare with the GEMM peak of the same run too
PUBLISHED_CELLS_PER_S = {"adamson": 96, "k562": 34}


def synthetic(n_genes:int, n_nodes:int, n_g0:int, batch_size:int=BATCH, seed:int=0)->dict:
    "A minibatch (keys of `KEYS`) and the per-screen tensors the training step needs"
    from gpovae.core import KEYS
    g = torch.Generator().manual_seed(seed)
    B = batch_size
    dosage = torch.zeros(B, n_nodes)
    kind = torch.rand(B, generator=g)                     # 10% controls, 5% combos, the rest singles
    first = torch.randint(0, n_g0, (B,), generator=g)
    second = (first + 1 + torch.randint(0, max(n_g0 - 1, 1), (B,), generator=g)) % n_g0
    cells = torch.arange(B)
    dosage[cells[kind >= 0.1], first[kind >= 0.1]] = 1.
    dosage[cells[kind >= 0.95], second[kind >= 0.95]] = 1.
    rate = torch.exp(1.5 * torch.randn(n_genes, generator=g) - 1.)
    x = torch.poisson(rate.expand(B, n_genes).contiguous(), generator=g)
    x[:, 0] += 1
    cf_mask = (torch.rand(B, generator=g) < 0.5).float()
    batch = {KEYS.x: x, KEYS.library: x.sum(1), KEYS.dosage: dosage,
             KEYS.artifact: (torch.rand(B, generator=g) < 0.1).float(),
             KEYS.delta: torch.rand(B, n_nodes, generator=g) * (dosage.sum(1, keepdim=True) > 0),
             KEYS.cf_ref: torch.poisson(rate.expand(B, n_genes).contiguous(), generator=g) * cf_mask[:, None],
             KEYS.cf_mask: cf_mask, KEYS.covariate: torch.zeros(B, 0), KEYS.index: torch.arange(B)}
    n_cells_per_node = torch.zeros(n_nodes, dtype=torch.long)
    n_cells_per_node[:n_g0] = 100                          # G+ nodes carry no cells: the plated prior's zero rows
    targets = {"dosage": torch.eye(n_nodes)[:n_g0], "effect": 0.3 * torch.randn(n_g0, n_nodes, generator=g),
               "se": torch.full((n_g0, n_nodes), 0.1), "columns": torch.arange(n_nodes)}
    features = torch.rand(n_nodes, n_genes, generator=g) * 2 - 1   # control-cell correlations, (P, G)
    logx = torch.log1p(x)
    return dict(batch=batch, n_cells_per_node=n_cells_per_node, targets=targets, features=features,
                x_loc=logx.mean(0), x_scale=logx.std(0).clamp_min(1e-3))


class Step:
    "The training step of `TrainingPlan` (losses, backward, clipping, Adam) for one preset and shape"
    def __init__(self, preset:str, n_genes:int, n_nodes:int, n_g0:int, n_cells:int=50_000, seed:int=0,
                 overrides:dict|None=None, mode:str="32-true", **_):
        from gpovae.config import arguments_for, resolve_config
        from gpovae.losses import compute_losses
        from gpovae.warm_start import module_from_config
        from gpovae.train import adam_for
        self.bf16 = mode == "bf16-mixed"
        self.config = resolve_config(preset, n_particles=PARTICLES, n_latent=LATENT, batch_size=BATCH, **(overrides or {}))
        data = synthetic(n_genes, n_nodes, n_g0, seed=seed)
        self.batch, self.data = data["batch"], data
        torch.manual_seed(seed)
        self.module = module_from_config(self.config, n_genes, n_nodes, 0, data["features"],
                                         data["x_loc"], data["x_scale"], n_g0=n_g0)
        self.optimizer = adam_for(self.module, self.config, mode)
        self.n_train, self.n_artifact = n_cells, n_cells // 10
        self.compute_losses, self.seed = compute_losses, seed
        self.kwargs = arguments_for(self.config, compute_losses, alpha=self.n_artifact / self.n_train,
                                    node_measured=torch.ones(n_nodes, dtype=torch.bool),
                                    alignment_targets=data["targets"])
        self.n_steps = 0

    def __call__(self)->float:
        "One step; the loss"
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.n_steps)
        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if self.bf16 else contextlib.nullcontext()
        with autocast:      # the forward pass only, as Lightning's precision plugin
            terms = self.compute_losses(self.module, self.batch, self.data["n_cells_per_node"], self.n_train,
                                        self.n_artifact, generator=generator, **self.kwargs)
        self.optimizer.zero_grad(set_to_none=True)
        terms.total.backward()
        torch.nn.utils.clip_grad_norm_(self.module.parameters(), self.config.gradient_clip)
        self.optimizer.step()
        self.n_steps += 1
        return float(terms.total.detach())


def gemm_gflops(n:int=2048, repeats:int=5, dtype=torch.float32, onednn:bool=False)->float:
    "Best GEMM throughput (GFLOP/s) on n x n matrices of `dtype` with the current thread count: torch.mm, or oneDNN's"
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    with onednn_products(onednn):
        product = lambda: linear(a, b) if onednn else torch.mm(a, b)
        product()
        best = 0.
        for _ in range(repeats):
            start = time.perf_counter()
            product()
            best = max(best, 2 * n**3 / (time.perf_counter() - start) / 1e9)
    return best


def fp32_gemm_peaks(n:int)->dict:
    "The fp32 GEMM throughput of torch.mm (MKL) and of oneDNN's product (0 where this torch has none)"
    return {"torch_mm": gemm_gflops(n), "onednn": gemm_gflops(n, onednn=True) if onednn_available() else 0.}


def step_flops(step:Step)->int:
    "Matrix-product FLOPs of one training step (forward and backward)"
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter, onednn_products(False):      # the counter knows torch's products, not oneDNN's op; same products
        step()
    return counter.get_total_flops()


def profile(step:Step, n_rows:int=25)->str:
    "The torch profiler's operator table of one step, by self CPU time"
    from torch.profiler import ProfilerActivity, profile as torch_profile
    with torch_profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        step()
    return prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=n_rows)


def time_shape(name:str, shape:dict, mode:str, repeats:int, warmup:int, show_profile:bool, flops:int|None=None,
               overrides:dict|None=None)->dict:
    "Build one shape in one mode, count its FLOPs (unless given), time `repeats` steps; a result row"
    start = time.perf_counter()
    step = Step(**shape, mode=mode, overrides=overrides)
    build_s = time.perf_counter() - start
    for _ in range(warmup): step()
    flops = flops or step_flops(step)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        loss = step()
        seconds.append(time.perf_counter() - start)
    if show_profile: print(f"\n== profile of one step, {name}, {mode}\n{profile(step)}")
    median = statistics.median(seconds)
    return dict(shape=name, mode=mode, overrides=overrides or {}, **shape, batch_size=BATCH, n_particles=PARTICLES, n_latent=LATENT,
                build_s=round(build_s, 2), step_s=round(median, 4), step_s_min=round(min(seconds), 4),
                steps_s=[round(s, 4) for s in seconds], cells_per_s=round(BATCH / median, 1),
                epoch_s=round(shape["n_cells"] / (BATCH / median), 1), flops=flops,
                gflop_per_step=round(flops / 1e9, 2), gflop_per_s=round(flops / 1e9 / median, 2),
                gflop_per_s_best=round(flops / 1e9 / min(seconds), 2), loss=loss)


def quick_shape(shape:dict)->dict:
    "A smaller version of a shape for --quick: a fifth of the genes and nodes"
    return dict(shape, n_genes=shape["n_genes"] // 5, n_nodes=max(shape["n_nodes"] // 5, 8),
                n_g0=max(shape["n_g0"] // 5, 4))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--quick", action="store_true", help="a fifth of the genes and nodes, 3 timed steps")
    parser.add_argument("--repeats", type=int, default=None, help="timed steps per shape (default 10, quick 3)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--gemm-n", type=int, default=2048, help="size of the square GEMM of the peak measurement")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES),
                        help="precision of the step (default: both)")
    parser.add_argument("--set", nargs="*", default=[], help="hyperparameter overrides NAME=VALUE (numbers or words)")
    parser.add_argument("--malloc", choices=["reuse", "plain"], default="reuse",
                        help="reuse: freed memory serves the next step, as in fit (threads.reuse_freed_memory); plain: glibc's defaults")
    parser.add_argument("--onednn", choices=["auto", "on", "off"], default="auto",
                        help="float32 products through oneDNN: auto (gpovae's default for this CPU), on, or off (torch's default BLAS)")
    parser.add_argument("--profile", action="store_true", help="print the profiler's top operators of one step")
    parser.add_argument("--out", default=str(Path(__file__).parent/"results"/"speed.json"))
    args = parser.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    repeats = args.repeats or (3 if args.quick else 10)
    n_gemm = args.gemm_n // 2 if args.quick else args.gemm_n
    use_onednn = onednn_default() if args.onednn == "auto" else args.onednn == "on"
    fp32_peaks = fp32_gemm_peaks(n_gemm)
    peaks = {"32-true": max(fp32_peaks.values())}
    if any(m.startswith("bf16") for m in args.modes): peaks["bf16-mixed"] = gemm_gflops(n_gemm, dtype=torch.bfloat16)
    overrides = parse_overrides(args.set)
    rows = []
    for name in args.shapes:
        shape = quick_shape(SHAPES[name]) if args.quick else SHAPES[name]
        flops = None            # counted in the first mode; the matrix products are the same in both
        for mode in args.modes:
            with (reuse_freed_memory() if args.malloc == "reuse" else contextlib.nullcontext(),
                  onednn_products(use_onednn)):
                rows.append(time_shape(name, shape, mode, repeats, args.warmup, args.profile, flops, overrides))
            flops = rows[-1]["flops"]
    for kind, value in fp32_gemm_peaks(n_gemm).items():      # the better of before and after
        fp32_peaks[kind] = max(fp32_peaks[kind], value)
    peaks["32-true"] = max(fp32_peaks.values())
    if "bf16-mixed" in peaks: peaks["bf16-mixed"] = max(peaks["bf16-mixed"], gemm_gflops(n_gemm, dtype=torch.bfloat16))
    print(f"\ntorch {torch.__version__}, {torch.get_num_threads()} threads; fp32 GEMM peak {peaks['32-true']:.1f} GFLOP/s "
          f"(torch.mm {fp32_peaks['torch_mm']:.1f}, oneDNN {fp32_peaks['onednn']:.1f}); float32 products: "
          f"{'oneDNN' if use_onednn else 'torch default'}"
          + (f", bf16 GEMM peak {peaks['bf16-mixed']:.1f} GFLOP/s" if "bf16-mixed" in peaks else "")
          + f"{' (quick: shapes / 5)' if args.quick else ''}")
    print(f"{'shape':10s}{'mode':>20s}{'G':>6s}{'P':>6s}{'|G0|':>5s}{'step s':>8s}{'min s':>7s}{'cells/s':>8s}"
          f"{'epoch s':>8s}{'GFLOP':>7s}{'GFLOP/s':>8s}{'of fp32 peak':>13s}{'of own peak':>12s}{'x published':>12s}")
    for r in rows:
        own = peaks[r["mode"]]
        r["peak_fraction"] = round(r["gflop_per_s"] / peaks["32-true"], 4)
        r["own_peak_fraction"] = round(r["gflop_per_s"] / own, 4)
        published = PUBLISHED_CELLS_PER_S.get(r["shape"]) if not args.quick else None
        r["times_published"] = round(r["cells_per_s"] / published, 2) if published else None
        print(f"{r['shape']:10s}{r['mode']:>20s}{r['n_genes']:6d}{r['n_nodes']:6d}{r['n_g0']:5d}{r['step_s']:8.3f}"
              f"{r['step_s_min']:7.3f}{r['cells_per_s']:8.0f}{r['epoch_s']:8.0f}{r['gflop_per_step']:7.1f}"
              f"{r['gflop_per_s']:8.1f}{r['peak_fraction']:13.1%}{r['own_peak_fraction']:12.1%}"
              + (f"{r['times_published']:11.1f}x" if r["times_published"] else f"{'-':>12s}"))
    for r in rows:
        print(f"{r['shape']} {r['mode']}: {r['peak_fraction']:.1%} of the measured fp32 GEMM peak "
              f"({r['gflop_per_s']:.1f} of {peaks['32-true']:.1f} GFLOP/s)"
              + (f", {r['own_peak_fraction']:.1%} of the bf16 peak" if r["mode"].startswith("bf16") else ""))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(out.read_text()) if out.exists() else {}
    for r in rows:
        key = (f"{r['shape']}{'/quick' if args.quick else ''}/{torch.get_num_threads()}threads/{r['mode']}"
               + "".join(f"/{name}={value}" for name, value in r["overrides"].items())
               + ("" if args.onednn == "auto" else f"/onednn={args.onednn}"))
        results[key] = dict(r, malloc=args.malloc, onednn=args.onednn, gemm_peak_gflop_per_s=round(peaks["32-true"], 1),
                            gemm_torch_mm_gflop_per_s=round(fp32_peaks["torch_mm"], 1),
                            gemm_onednn_gflop_per_s=round(fp32_peaks["onednn"], 1),
                            bf16_gemm_peak_gflop_per_s=round(peaks.get("bf16-mixed", float("nan")), 1),
                            torch_threads=torch.get_num_threads(),
                            torch=torch.__version__, machine=platform.machine(),
                            peak_rss_gib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2))
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
