"""Readers and writers, one module per format. Readers return lazy Scenes and nothing else."""
