"""Scene and sensor-log simulator with known truth: forward radiance model, turbulent plumes, noise.

Plume families: :func:`plumetrace.simulate.plumes.simulate_plume` (turbulent puffs, the default) and
:func:`plumetrace.simulate.gaussian_plume.simulate_gaussian_plume` (steady Gaussian plume, Briggs σ_y, σ_z).
"""
