"""Campaigns: `plumetrace run` over many scenes and sensor logs, resumable, on Dask."""
