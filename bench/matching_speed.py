"""Time the matching stage of a fit (`match_seen_effects`, and `effects_of_unseen_nodes` where a screen has unseen
perturbations) alone, on the model of a trained run, with 1 torch thread as `fit_module` runs it. Not a test; not in CI.

The saved model was matched already, so the seen rows of its linear path are first put back where a fresh fit starts
them (`build_module`'s warm start from the training effects): matching then starts from an unmatched model, like after
training. Prints CPU seconds (`time.process_time`) and wall seconds, the matching's rmse before -> after, the
validation effect error of the fit's monitor after matching, and the held-out (test) effect scores of the matched
model; `--profile` adds the cProfile table of the matching; `--save` writes the matched rows (.npy) and `--compare`
says how far they are from rows saved earlier.

  python bench/matching_speed.py /tmp/lead/e2e01/run_scale0.1 --cache /tmp/h32/prepared_0.1.pkl --profile
"""
import argparse
import cProfile
import os
import pickle
import pstats
import time
from pathlib import Path

import numpy as np


def prepared_of(run:Path, cache:Path|None):
    "The run's prepared screen (read from `cache` when it exists, else prepared and written there)"
    if cache is not None and cache.exists():
        return pickle.loads(cache.read_bytes())
    from gpovae.pipeline import prepare_screen, read_screen
    from gpovae.run_folder import read_config
    settings = read_config(run/"config.yaml")
    prepared = prepare_screen(read_screen(settings["data"], settings.get("backed", False)), settings)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(prepared))
    return prepared


def unmatched(model, prepared):
    "Put the seen rows of the linear path back at their warm start (as before training), as a fit's matching finds them roughly"
    import torch
    from gpovae.warm_start import _trained_singles, build_module
    fresh = build_module(prepared, model.config, model.seed)
    _, rows = _trained_singles(prepared)
    with torch.no_grad():
        model.module.linear.weight[torch.as_tensor(rows)] = fresh.linear.weight[torch.as_tensor(rows)]
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a run folder written by gpovae train")
    parser.add_argument("--cache", type=Path, help="pickle of the prepared screen (written on the first use)")
    parser.add_argument("--profile", action="store_true", help="print the cProfile table of the matching")
    parser.add_argument("--save", type=Path, help="write the matched linear-path weights here (.npy)")
    parser.add_argument("--compare", type=Path, help="weights saved earlier with --save: print the largest difference")
    parser.add_argument("--steps", type=int, help="Newton steps (default: the current Config's effect_matching_steps)")
    parser.add_argument("--no-scores", action="store_true", help="skip the held-out effect scores")
    args = parser.parse_args()
    import torch
    from gpovae.borrowing import effects_of_unseen_nodes
    from gpovae.run_folder import load_run
    from gpovae.train import _monitor
    from gpovae.warm_start import ControlCells, match_seen_effects
    torch.set_num_threads(1)
    model, _ = load_run(args.run)
    prepared = prepared_of(args.run, args.cache)
    torch.set_num_threads(1)
    rows = unmatched(model, prepared)
    from gpovae.config import Config
    control, config = ControlCells(model.control_x, model.control_covariate), model.config
    steps = Config.effect_matching_steps if args.steps is None else args.steps   # not the saved run's setting
    profile = cProfile.Profile() if args.profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profile: profile.enable()
    seen = match_seen_effects(model.module, prepared, control, steps)
    seen_cpu, seen_wall = time.process_time() - cpu, time.perf_counter() - wall
    unseen = effects_of_unseen_nodes(model.module, prepared, config.unseen_guess, control, steps)
    if profile: profile.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"threads {torch.get_num_threads()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}: "
          f"{steps} steps, {len(rows)} seen perturbations, {prepared.n_genes} genes, {len(control.x)} control cells")
    print(f"match_seen_effects: {seen_cpu:.1f} s CPU ({seen_wall:.1f} s wall); "
          f"rmse {seen['rmse_before']:.5f} -> {seen['rmse_after']:.5f}")
    print(f"with effects_of_unseen_nodes: {cpu:.1f} s CPU ({wall:.1f} s wall); unseen: {unseen}")
    _, check = _monitor(config, model.seed, prepared, control)
    if check is not None:
        print(f"val_effects after matching: {check.error(model.module, model.seed):.5f}")
    weight = model.module.linear.weight.detach().numpy()
    if args.save: np.save(args.save, weight)
    if args.compare:
        earlier = np.load(args.compare)
        print(f"matched rows vs {args.compare}: largest |difference| {np.abs(weight - earlier)[rows].max():.4g}, "
              f"rms {np.sqrt(((weight - earlier)[rows] ** 2).mean()):.4g}")
    if not args.no_scores:
        from gpovae.scoring import effect_scores
        scores = effect_scores(model, prepared, "test", seed=model.seed, n_bootstrap=0)
        print("held-out test:", {k: round(v, 5) for k, v in scores.items()
                                 if k.startswith("effects.") and isinstance(v, float)})
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(18)


if __name__ == "__main__":
    main()
