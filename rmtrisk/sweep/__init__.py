"""Monte Carlo sweeps over grids of problems: executors (serial, local processes,
dask.distributed) and the SQLite results store."""

from .executors import DASK_HINT, DaskExecutor, ProcessExecutor, SerialExecutor, make_executor
from .jsonl import IMPORTED_VERSION, import_jsonl
from .run import cell_label, sweep
from .store import SCHEMA_VERSION, CellRecord, SweepStore, cell_key, code_version

__all__ = ["CellRecord", "DASK_HINT", "DaskExecutor", "IMPORTED_VERSION", "ProcessExecutor",
           "SCHEMA_VERSION", "SerialExecutor", "SweepStore", "cell_key", "cell_label",
           "code_version", "import_jsonl", "make_executor", "sweep"]
