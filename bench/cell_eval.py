"""Sampled single cells judged at the cell level: gpovae's energy distance and Arc Institute's cell-eval.

Prepares a screen (Papalexi 2021 with the replicate as covariate, or a kind of the bench grid, bench/screens.py),
fits GPO-VAE, and prints the energy distance and discrimination of the model's sampled cells (counterfactuals of
control cells, the default; the same without moving their effect onto the predicted one,
match_effects=False; cells drawn from the likelihood, noise='model') against the held-out
cells next to the cell-level baselines (`gpovae.cells.cell_scores`). It then writes, per method, a
predicted AnnData and one real AnnData of held-out cells in the layout `cell-eval run` expects
(log-normalised expression, obs column `target_gene`, the same held-out control cells in every file)
and runs `cell-eval run` on each, printing its aggregated table. cell-eval needs Python >= 3.11 and
is kept out of gpovae's install: give its command with --cell-eval (default: .venv-celleval/bin/cell-eval,
made with `python3.11 -m venv .venv-celleval && .venv-celleval/bin/pip install cell-eval==0.8.2`);
without it only gpovae's table is printed. Writes bench/results/cell_eval_SCREEN_SPLIT_seedS.json. Not run in CI.

    python bench/cell_eval.py --screen papalexi [--split random] [--n-cells 300]
    python bench/cell_eval.py --screen strong_hill --split unseen --seed 1
"""
import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anndata
import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import write_results

from gpovae.cells import _logged_cells, cell_baselines, cell_scores
from gpovae.core import shared_data_path
from gpovae.data import log_normalize
from gpovae.model import GPOVAE
from gpovae.prepared import prepare
from screens import KINDS, QUICK, make_screen

METHODS = ["model", "model_unmoved", "model_likelihood", "control_cells", "training_cells", "mean_shift"]


def load_screen(name:str, split:str, seed:int):
    "A prepared screen (Papalexi, or a kind of the bench grid at its quick size), or None with a message when its data are absent"
    if name == "papalexi":
        path = shared_data_path("perturbseq", "papalexi2021_thp1_299genes.h5ad")
        if path is None:
            print("skipped: the Papalexi screen is not in GPOVAE_DATA_DIR or ../shared/data")
            return None
        return prepare(anndata.read_h5ad(path), batch_key="bio_rep", split=split, seed=seed)
    return prepare(make_screen(name, seed, QUICK), split=split, seed=seed, doublets=False)


SAMPLED = {"model": {}, "model_unmoved": {"match_effects": False}, "model_likelihood": {"noise": "model"}}   # method: options of `model.sample`


def recording_sampler(model, prepared, options:dict, store:dict):
    "`model.sample` from `prepared`'s training control cells with `options`; each perturbation's log-normalised cells also go into `store`"
    def sample(perturbations, n_cells, seed):
        cells = model.sample(perturbations, n_cells=n_cells, seed=seed, start_cells=prepared, **options)
        logged, labels = np.asarray(log_normalize(cells.X)), cells.obs["perturbation"].to_numpy()
        store.update({t: logged[labels == t] for t in perturbations})
        return cells
    return sample


def all_cell_scores(model, prepared, n_cells:int, seed:int)->tuple:
    "`cell_scores` of the default model (counterfactual cells) plus `model_unmoved.` and `model_likelihood.` keys (the other sampling options); and the cells each sampled, {method: {perturbation: cells}}"
    sampled = {name: {} for name in SAMPLED}
    scores = {}
    for name, options in SAMPLED.items():
        made = cell_scores(recording_sampler(model, prepared, options, sampled[name]), prepared, max_cells=n_cells, seed=seed)
        prefix = "" if name == "model" else f"{name}."
        scores.update({prefix + k: v for k, v in made.items() if name == "model" or k.startswith("cells.")})
    return scores, sampled


def print_cell_table(scores:dict):
    "The energy distance / discrimination table of `cell_scores`, methods as columns"
    print(f"\n{'held-out cells':<34} " + " ".join(f"{m:>16}" for m in METHODS))
    for setting in ["seen", "unseen"]:
        for metric in ["energy_distance", "discrimination"]:
            keys = ([f"cells.{setting}.{metric}"] + [f"{m}.cells.{setting}.{metric}" for m in SAMPLED if m != "model"]
                    + [f"baseline.{m}.cells.{setting}.{metric}" for m in METHODS[len(SAMPLED):]])
            if keys[0] not in scores: continue
            print(f"{setting + ' ' + metric:<34} " + " ".join(f"{scores[k]:>16.3f}" if k in scores else f"{'-':>16}" for k in keys))


def _as_anndata(logged:dict, controls:np.ndarray, control:str, genes:list)->anndata.AnnData:
    "Cells per perturbation plus the held-out control cells, log-normalised, obs `target_gene`"
    blocks = list(logged.values()) + [controls]
    labels = np.concatenate([np.repeat(t, len(x)) for t, x in logged.items()] + [np.repeat(control, len(controls))])
    obs = pd.DataFrame({"target_gene": labels}, index=[f"cell{i}" for i in range(len(labels))])
    return anndata.AnnData(X=np.vstack(blocks).astype(np.float32), obs=obs, var=pd.DataFrame(index=genes))


def write_cell_eval_files(model, prepared, folder:Path, n_cells:int, seed:int, sampled:dict)->dict:
    "pred_METHOD.h5ad and the real held-out cells of the same perturbations (seen and unseen together); {method: (pred, real)}; reuses the cells `all_cell_scores` sampled"
    control, genes, split = prepared.settings["control"], list(prepared.genes), "test"
    evaluated = sorted(set(prepared.labels[prepared.indices_of(split)]) - {control})
    trained = set(prepared.labels[prepared.indices_of("train")])
    settings = {"seen": [t for t in evaluated if t in trained], "unseen": [t for t in evaluated if t not in trained]}
    controls = _logged_cells(prepared, split, control, 10 * n_cells, seed)          # the same in every file
    real = {t: _logged_cells(prepared, split, t, n_cells, seed) for t in evaluated}
    predictions = {}
    for name, options in SAMPLED.items():
        missing = [t for t in evaluated if t not in sampled[name]]     # e.g. unseen combinations, which cell_scores leaves out
        if missing: recording_sampler(model, prepared, options, sampled[name])(missing, n_cells, seed)
        predictions[name] = {t: sampled[name][t] for t in evaluated}
    for name, by_setting in cell_baselines(prepared, {k: v for k, v in settings.items() if v}, n_cells, seed).items():
        predictions[name] = {t: x for cells in by_setting.values() for t, x in cells.items()}
    paths = {}
    for name, cells in predictions.items():
        if not cells: continue
        real_path = folder/("real.h5ad" if set(cells) == set(real) else f"real_{name}.h5ad")   # the perturbations it predicts
        _as_anndata({t: real[t] for t in cells}, controls, control, genes).write_h5ad(real_path)
        paths[name] = (folder/f"pred_{name}.h5ad", real_path)
        _as_anndata(cells, controls, control, genes).write_h5ad(paths[name][0])
    return paths


def run_cell_eval(command:str, paths:dict, control:str, folder:Path, threads:int)->pd.DataFrame:
    "`cell-eval run` on every predicted file; the mean of each metric, methods as columns"
    table = {}
    for name, (pred, real) in paths.items():
        out = folder/f"out_{name}"
        call = [command, "run", "-ap", str(pred), "-ar", str(real), "--control-pert", control,
                "--pert-col", "target_gene", "--outdir", str(out), "--num-threads", str(threads), "--profile", "full"]
        done = subprocess.run(call, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"cell-eval failed on {name}:\n{done.stderr[-2000:]}")
            continue
        results = pd.read_csv(out/"agg_results.csv")
        means = results[results.iloc[:, 0] == "mean"].iloc[0, 1:] if "statistic" in results.columns else results.iloc[0, 1:]
        table[name] = pd.to_numeric(means, errors="coerce")
    return pd.DataFrame(table)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screen", choices=["papalexi", *KINDS], default="papalexi", help="Papalexi or a kind of the bench grid")
    parser.add_argument("--split", choices=["random", "unseen"], default="random")
    parser.add_argument("--preset", default="small")
    parser.add_argument("--max-epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--n-cells", type=int, default=300, help="cells a side per perturbation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cell-eval", default=".venv-celleval/bin/cell-eval", help="the cell-eval command")
    parser.add_argument("--keep", default=None, help="folder to keep the h5ad files and cell-eval outputs in")
    parser.add_argument("--out", default=None, help="default: bench/results/cell_eval_SCREEN_SPLIT.json")
    args = parser.parse_args()
    prepared = load_screen(args.screen, args.split, args.seed)
    if prepared is None: return
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model = GPOVAE(prepared, preset=args.preset, seed=args.seed).fit(max_epochs=args.max_epochs, progress_bar=False)
    print(prepared.summary())
    print(f"fit {time.perf_counter() - start:.1f} s ({model.history.get('epochs')} epochs)")
    scores, sampled = all_cell_scores(model, prepared, args.n_cells, args.seed)
    print_cell_table(scores)
    results = {"cells": scores}
    command = shutil.which(args.cell_eval) or (args.cell_eval if Path(args.cell_eval).exists() else None)
    if command is None:
        print(f"\ncell-eval not found at {args.cell_eval!r}: its table is skipped (see the docstring to install it)")
    else:
        folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cell_eval_"))
        folder.mkdir(parents=True, exist_ok=True)
        paths = write_cell_eval_files(model, prepared, folder, args.n_cells, args.seed, sampled)
        table = run_cell_eval(command, paths, prepared.settings["control"], folder, args.threads)
        with pd.option_context("display.max_rows", 200, "display.max_columns", 20, "display.width", 200, "display.float_format", "{:.4f}".format):
            print(f"\ncell-eval (mean over held-out perturbations; training_cells: seen ones only; files in {folder})\n{table}")
        results["cell_eval"] = table.to_dict()
        if not args.keep: shutil.rmtree(folder)
    write_results(args.out or f"bench/results/cell_eval_{args.screen}_{args.split}_seed{args.seed}.json", args, results)


if __name__ == "__main__":
    main()
