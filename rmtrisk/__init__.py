"""rmtrisk: exact high-dimensional test risk of linear denoising autoencoders.

The public API, re-exported explicitly.
"""

from .problem import Problem
from .status import SolverError, Status

__all__ = ["Problem", "SolverError", "Status"]
__version__ = "0.1.0"
