"""Plume segmentation, source location and emission-rate quantification from enhancement maps."""
