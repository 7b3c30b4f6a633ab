"""`plumetrace run`."""
