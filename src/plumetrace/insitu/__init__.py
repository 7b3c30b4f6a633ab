"""In-situ sensors: dispersion models, Bayesian source-term estimation, drone mass balance."""
