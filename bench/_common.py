"Shared by the bench scripts: writing the results file"
import json
from pathlib import Path


def write_results(path, args, results):
    "Write the arguments and results of a bench run as JSON to `path` (folders created) and say where"
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(args=vars(args), results=results), indent=1, default=float))
    print(f"wrote {out}")
