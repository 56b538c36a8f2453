"Shared by the bench scripts: hyperparameter overrides from the command line, writing the results file"
import json
from pathlib import Path


def write_results(path, args, results):
    "Write the arguments and results of a bench run as JSON to `path` (folders created) and say where"
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(args=vars(args), results=results), indent=1, default=float))
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
