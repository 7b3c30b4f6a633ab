"""Writers that know both a stage's results and a file format."""
