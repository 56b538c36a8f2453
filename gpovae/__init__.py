__version__ = "0.0.1"

from .simulate import simulate_perturbseq

__all__ = ["simulate_perturbseq"]
