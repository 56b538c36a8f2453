__version__ = "0.0.1"

# The public names of the package, imported on first use so that `gpovae --help` stays fast.
_EXPORTS = {
    "simulate_perturbseq": "gpovae.simulate",
    "prepare": "gpovae.prepared",
    "PreparedData": "gpovae.prepared",
    "GPOVAE": "gpovae.model",
    "evaluate": "gpovae.scoring",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        # cache it: importing a submodule of the same name (gpovae.evaluate) would otherwise shadow it
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gpovae' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
