"""Monte Carlo sweeps over grids of problems: executors (serial, local processes,
dask.distributed) and the SQLite results store."""
