"""plumetrace's maintained benchmarks, run from the repository root as ``python -m benchmarks.NAME``.

See benchmarks/README.md for what each one measures and docs/benchmarks.md for the current figures.
"""
