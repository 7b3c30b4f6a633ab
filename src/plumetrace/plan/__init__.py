"""Survey flight planning: coverage, airspace limits, transects, autopilot exports."""
