"""Does the model predict non-additive effects of combinations, and are they right? (simulated screens)

For screens with combinations held out (`split="unseen-combos"`), compares the predicted interaction of
each held-out combination, pred(A+B) - pred(A) - pred(B), with the simulator's noise-free interaction,
true(A+B) - true(A) - true(B), on the 20 genes of largest true |interaction|: their Pearson correlation
and the ratio of the predicted to the true interaction size. Writes bench/results/interactions.json.
Not a test; not run in CI.

    python bench/interactions.py [--seeds 0 1 2 --jobs 2]
"""
import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np


def run_one(seed:int)->list:
    "Fit on one screen with held-out combinations; one row per combination"
    import torch
    import gpovae
    torch.set_num_threads(1)
    adata = gpovae.simulate_perturbseq(n_cells=8000, n_genes=300, n_perturbations=30, n_combos=5, seed=seed)
    prepared = gpovae.prepare(adata, split="unseen-combos", seed=seed)
    model = gpovae.GPOVAE(prepared, seed=seed).fit(progress_bar=False)
    truth = adata.uns["true_effects"]
    combos = [label for label in truth.index if "+" in label]
    rows = []
    for combo in combos:
        a, b = combo.split("+")
        predicted = model.predict_effects([combo, a, b]).to_df()
        pred = (predicted.loc[combo] - predicted.loc[a] - predicted.loc[b]).to_numpy()
        true = (truth.loc[combo] - truth.loc[a] - truth.loc[b]).reindex(predicted.columns).to_numpy()
        top = np.argsort(-np.abs(true))[:20]
        rows.append(dict(seed=seed, combo=combo, true_size=float(np.abs(true[top]).mean()),
                         predicted_size=float(np.abs(pred[top]).mean()),
                         pearson=float(np.corrcoef(pred[top], true[top])[0, 1])))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default="bench/results/interactions.json")
    args = parser.parse_args()
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = [row for result in pool.map(run_one, args.seeds) for row in result]
    print(f"{'seed':>4} {'combination':<14} {'|true| (top20)':>14} {'|predicted|':>11} {'pearson':>8}")
    for r in rows:
        print(f"{r['seed']:>4} {r['combo']:<14} {r['true_size']:>14.3f} {r['predicted_size']:>11.3f} {r['pearson']:>8.3f}")
    print(f"mean: |true| {np.mean([r['true_size'] for r in rows]):.3f}, |predicted| "
          f"{np.mean([r['predicted_size'] for r in rows]):.3f}, pearson {np.nanmean([r['pearson'] for r in rows]):.3f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(args=vars(args), rows=rows), indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
