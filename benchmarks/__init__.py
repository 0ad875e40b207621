"""The shop's benchmark: `python -m benchmarks` (or `make bench`); benchmarks/run.py runs it."""
