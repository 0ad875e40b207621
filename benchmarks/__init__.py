"""The shop's benchmark: `python -m benchmarks` (or `make bench`); see benchmarks/runner.py."""
