"""The bench grid's kinds of screens, and the references that only the bench runs (GRNBoost2).

Each kind is a recipe for a simulated screen with a known GRN. Four come from the existing grid (strong or
modest effects, saturating "hill" or "linear"-in-log regulation); the others add what real screens have:
- feedback: two-gene loops between perturbed genes (half of the block's edges get a reverse edge);
- confounder: a hidden cell-state programme that a third of the perturbations shift (effects without edges);
- variable_knockdown: per-cell efficiency spread wide (Beta concentration 2) and 15% of cells escaping;
- mediators: half of the edges between perturbed genes run through an unperturbed gene (indirect effects);
- thin: twice the perturbations at about 40 cells each (genome-wide screens look like this);
- sergio, sergio_light: SERGIO v2 screens (bench/sergio_screen.py) with its technical noise, and with
  lighter dropout and more counts.
The four hard kinds of our simulator use linear-in-log regulation, where modular response analysis is
exact for direct edges: the hardest baseline to beat. Every screen of our simulator has low-quality cells
(8%) and doublets (4%).
"""
import os
from pathlib import Path

import numpy as np
import pandas as pd

CACHE = Path(__file__).parent / "results" / "cache"
HARD = dict(regulation="linear")
KINDS = {
    "strong_hill": {},
    "strong_linear": dict(regulation="linear"),
    "modest_hill": "modest",
    "modest_linear": ("modest", dict(regulation="linear")),
    "feedback": dict(HARD, feedback_fraction=0.5),
    "confounder": dict(HARD, confounder_sd=0.5),
    "variable_knockdown": dict(HARD, efficiency_concentration=2.0, escape_fraction=0.15),
    "mediators": dict(HARD, mediated_fraction=0.5),
    "thin": "thin",
    "sergio": "sergio",
    "sergio_light": "sergio",
}
QUICK = dict(n_cells=3000, n_genes=200, n_perturbations=15, n_combos=3)



def add_screen_arguments(parser):
    "The options every grid bench shares: which kinds, which seeds and the size of the screens"
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-cells", type=int, default=8000)
    parser.add_argument("--n-genes", type=int, default=300)
    parser.add_argument("--n-perturbations", type=int, default=30)
    parser.add_argument("--n-combos", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help=f"smaller screens: {QUICK}")


def screen_size(args)->dict:
    "The screen size the options of `add_screen_arguments` ask for"
    return QUICK if args.quick else dict(n_cells=args.n_cells, n_genes=args.n_genes,
                                         n_perturbations=args.n_perturbations, n_combos=args.n_combos)

def _settings(kind:str, size:dict)->dict:
    "Keyword arguments of `simulate_perturbseq` for `kind` at `size`"
    from gpovae.simulate import REGIMES
    recipe = KINDS[kind]
    if recipe == "modest": return {**size, **REGIMES["modest"]}
    if isinstance(recipe, tuple): return {**size, **REGIMES[recipe[0]], **recipe[1]}
    if recipe == "thin":
        n_perturbations = 2 * size["n_perturbations"]
        n_labels = n_perturbations + size["n_combos"]
        return {**size, "n_perturbations": n_perturbations, "n_cells": int(40 * n_labels / 0.85)}
    return {**size, **recipe}


def make_screen(kind:str, seed:int, size:dict):
    "The AnnData of one screen of the grid (SERGIO screens are cached on disk: they take minutes)"
    if KINDS[kind] != "sergio":
        import gpovae
        return gpovae.simulate_perturbseq(**_settings(kind, size), seed=seed)
    import anndata
    from sergio_screen import sergio_screen
    noise = "light" if kind == "sergio_light" else "standard"
    n_cells = min(size["n_cells"], 5000)
    path = CACHE / f"sergio_{noise}_{n_cells}_{size['n_combos']}_{seed}.h5ad"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")     # two jobs may make the same screen: never read half a file
        sergio_screen(n_cells=n_cells, n_combos=size["n_combos"], noise=noise, seed=seed).write_h5ad(partial)
        os.replace(partial, path)
    return anndata.read_h5ad(path)


def grnboost2_network(expr, genes:list, nodes:list, seed:int=0)->pd.DataFrame:
    """GRNBoost2 (Moerman et al. 2019, arboreto) on observational cells: every node gene regressed on the others.

    arboreto's own early stopping (an out-of-bag monitor) stops after ~26 trees under scikit-learn >= 1.3,
    whose out-of-bag scores are computed on a new subsample at each stage; we keep arboreto's regressor
    settings and use scikit-learn's validation early stopping (25 rounds without improvement) instead.
    """
    import arboreto.core as arboreto
    _NEVER = 10 ** 9   # a window arboreto's monitor never fills: scikit-learn's n_iter_no_change stops instead
    kwargs = dict(arboreto.SGBM_KWARGS, n_iter_no_change=25, validation_fraction=0.1)
    column = {g: j for j, g in enumerate(genes)}
    measured = [n for n in nodes if n in column]
    X = np.asarray(expr[:, [column[n] for n in measured]].todense() if hasattr(expr, "todense") else expr[:, [column[n] for n in measured]])
    scores = pd.DataFrame(0.0, index=list(nodes), columns=list(nodes))
    for j, target in enumerate(measured):
        others = [i for i in range(len(measured)) if i != j]
        if X[:, j].std() == 0: continue
        links = arboreto.infer_partial_network("GBM", kwargs, X[:, others], [measured[i] for i in others], target, X[:, j],
                                               early_stop_window_length=_NEVER, seed=seed)
        scores.loc[links.TF.to_numpy(), target] = links.importance.to_numpy()
    return scores


def screen_statistics(adata)->dict:
    "What a screen looks like: zeros, UMIs per cell, cells per perturbation, true edges among perturbed genes, genes moved"
    X = adata.X
    perturbed = set(adata.var_names[adata.var.true_perturbed])
    grn = adata.uns["grn_true"]
    effects = adata.uns["true_effects"]
    singles = [t for t in effects.index if "+" not in t]
    labels = adata.obs["gene"]
    return {"cells": adata.n_obs, "genes": adata.n_vars, "zeros": float(1 - X.nnz / np.prod(X.shape)),
            "umis_per_cell": float(np.median(np.asarray(X.sum(1)).ravel())),
            "cells_per_perturbation": float(labels[labels != "non-targeting"].value_counts().median()),
            "perturbed": len(perturbed),
            "edges_among_perturbed": int((grn.source.isin(perturbed) & grn.target.isin(perturbed)).sum()),
            "genes_over_0.3": float((effects.loc[singles].abs() > 0.3).sum(1).mean())}
