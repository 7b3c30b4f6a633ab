"""Evidence packages: maps, numbers, provenance, checksums (en, es).

``build_report(run_dir, out_dir, ReportOptions(lang="es"))`` writes the package of a run folder (docs/report.md);
``verify_package(package_dir)`` checks it against its manifest.
"""

from plumetrace.report.build import ReportOptions, ReportResult, build_report
from plumetrace.report.manifest import VerifyResult, verify_package

__all__ = ["ReportOptions", "ReportResult", "VerifyResult", "build_report", "verify_package"]
