"""Scene and sensor-log simulator with known truth: forward radiance model, turbulent plumes, noise."""
