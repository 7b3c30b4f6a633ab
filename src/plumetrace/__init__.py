"""plumetrace: find gas plumes in imaging-spectrometer scenes and sensor logs, and trace them to their sources."""

__version__ = "0.1.0"
__all__ = ["__version__"]
