"""Gas detection in imaging-spectrometer scenes: :func:`plumetrace.detect.engine.detect_scene` with
:class:`plumetrace.detect.options.DetectOptions`; :func:`tune_process` is the opt-in process tuning the CLI uses."""

from plumetrace.detect.tuning import tune_process

__all__ = ["tune_process"]
