"""Demo step: the evidence package of the demo campaign, signed, then checked as a recipient would.

Builds ``<out>/report/`` from the campaign step's run folder (:func:`plumetrace.report.build_report`, English, with
the PDF when Chromium is installed), signs its manifest with a key made for the demo (``<out>/demo-keys/``), and
runs :func:`plumetrace.report.verify_package` twice: on the package as written (intact, signature valid) and on a
copy with one byte of ``report.html`` changed (named as altered).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

__all__ = ["demo_step"]

Row = tuple[str, str, str, str]


def _demo_keys(folder: Path) -> tuple[Path, Any]:
    """A fresh Ed25519 key pair: the private key as PEM in ``folder``, the public key object."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private = folder / "demo-signing-key.pem"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public = key.public_key()
    (folder / "demo-signing-key.pub.pem").write_bytes(
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def _describe(result: Any) -> str:
    if result.intact:
        return f"intact ({result.n_files} files), signature {result.signature}"
    parts = [f"{kind}: {', '.join(names)}" for kind, names in (
        ("altered", result.altered), ("missing", result.missing), ("added", result.added)) if names]  # fmt: skip
    return "; ".join(parts) + f"; signature {result.signature}"


def demo_step(ctx: Any) -> list[Row]:
    """Write and verify the evidence package of ``ctx.products["campaign_run"]``; puts ``report_html`` in
    ``ctx.products`` (its path once the demo folder is in place)."""
    from plumetrace.report import ReportOptions, build_report, verify_package
    from plumetrace.report.render import find_chromium

    run_dir = ctx.products.get("campaign_run")
    if run_dir is None or not (Path(run_dir) / "run.json").is_file():
        return [("report", "evidence package", "skipped", "no run folder from the campaign step")]
    out = Path(ctx.out_dir) / "report"
    out.mkdir(parents=True)
    private, public = _demo_keys(Path(ctx.out_dir) / "demo-keys")
    pdf = find_chromium() is not None
    result = build_report(run_dir, out, ReportOptions(lang="en", pdf=pdf, sign_key=private))
    ctx.products["report_html"] = out / "report.html"
    truth = ctx.products.get("campaign_truth") or {}
    n_true = len(truth.get("sites", [])) if isinstance(truth, dict) else 0
    as_written = verify_package(out, public_key=public)
    tampered = Path(ctx.out_dir) / "report-tampered-copy"
    shutil.copytree(out, tampered)
    page = tampered / "report.html"
    data = bytearray(page.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one byte
    page.write_bytes(bytes(data))
    after = verify_package(tampered, public_key=public)
    shutil.rmtree(tampered)
    made = "report.html + report.pdf" if pdf else "report.html (no Chromium: no PDF)"
    return [
        ("report", "evidence package (English, signed)", f"{made}, {result.n_sites} site(s)", f"{n_true} true sites"),
        ("report", "verify: the package as written", _describe(as_written), "intact, signature valid"),
        ("report", "verify: one byte changed in report.html", _describe(after), "report.html altered"),
    ]
