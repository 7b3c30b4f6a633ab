"""`plumetrace sites`."""
