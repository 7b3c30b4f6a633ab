"""`plumetrace report`."""
