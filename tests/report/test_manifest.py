"""The package manifest and `plumetrace verify`: a changed byte, a removed file and an added file are each named
(exit 1); an intact package passes (exit 0); the Ed25519 signature holds only with the issuer's key."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from plumetrace.report.manifest import (
    load_private_key,
    load_public_key,
    sign_manifest,
    verify_package,
    write_manifest,
)


@pytest.fixture
def package(tmp_path):
    root = tmp_path / "package"
    (root / "gis").mkdir(parents=True)
    (root / "report.html").write_text("<!DOCTYPE html><html lang=en><title>t</title></html>\n")
    (root / "report.pdf").write_bytes(bytes(range(256)) * 4)
    (root / "gis" / "sites.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    (root / ".plumetrace").write_text("{}\n")  # the output marker is not part of the evidence
    write_manifest(root, meta={"lang": "en"})
    return root


def _keys(tmp_path, name="issuer"):
    key = Ed25519PrivateKey.generate()
    private = tmp_path / f"{name}.pem"
    public = tmp_path / f"{name}.pub.pem"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def test_manifest_lists_every_file_with_its_sha256(package):
    import hashlib

    manifest = json.loads((package / "manifest.json").read_text())
    assert set(manifest["files"]) == {"report.html", "report.pdf", "gis/sites.geojson"}
    for name, entry in manifest["files"].items():
        data = (package / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    assert verify_package(package).intact


@pytest.mark.parametrize(
    "tamper, kind, name",
    [
        (lambda p: _flip_byte(p / "report.pdf", 700), "altered", "report.pdf"),
        (lambda p: (p / "gis" / "sites.geojson").unlink(), "missing", "gis/sites.geojson"),
        (lambda p: (p / "gis" / "extra.kml").write_text("<kml/>"), "added", "gis/extra.kml"),
    ],
    ids=["changed-byte", "removed-file", "added-file"],
)
def test_verify_names_the_tampered_file(package, run_cli, tamper, kind, name):
    code, out, _ = run_cli("verify", package)
    assert code == 0 and "intact: 3 file(s)" in out
    tamper(package)
    result = verify_package(package)
    assert getattr(result, kind) == [name] and not result.intact
    others = {"added", "missing", "altered"} - {kind}
    assert all(getattr(result, other) == [] for other in others)
    code, out, _ = run_cli("verify", package)
    assert code == 1
    assert f"{kind}: {name}" in out and "NOT INTACT" in out


def _flip_byte(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_signature_holds_only_with_the_issuer_key(package, tmp_path, run_cli):
    private, public = _keys(tmp_path)
    _, other_public = _keys(tmp_path, "someone-else")
    code, out, _ = run_cli("verify", package, "--public-key", public)
    assert code == 1 and "signature: absent" in out  # asked to check a signature that is not there
    sign_manifest(package, load_private_key(private))
    assert verify_package(package, public_key=load_public_key(public)).signature == "valid"
    code, out, _ = run_cli("verify", package, "--public-key", public)
    assert code == 0 and "signature: valid" in out
    code, out, _ = run_cli("verify", package, "--public-key", other_public)
    assert code == 1 and "signature: invalid" in out
    # an edited manifest (hiding a changed file) breaks the signature
    manifest = json.loads((package / "manifest.json").read_text())
    _flip_byte(package / "report.pdf", 3)
    import hashlib

    manifest["files"]["report.pdf"]["sha256"] = hashlib.sha256((package / "report.pdf").read_bytes()).hexdigest()
    (package / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    result = verify_package(package, public_key=load_public_key(public))
    assert result.altered == [] and result.signature == "invalid" and not result.intact


def test_report_signs_its_package(run_dir, tmp_path, run_cli):
    private, public = _keys(tmp_path)
    out = tmp_path / "signed"
    code, _, err = run_cli("report", run_dir, "--no-pdf", "--sign", private, "--out", out)
    assert code == 0, err
    assert (out / "manifest.sig").stat().st_size == 64  # a raw Ed25519 signature
    code, stdout, _ = run_cli("verify", out, "--public-key", public)
    assert code == 0 and "signature: valid" in stdout
    assert "--public-key" in (out / "report.html").read_text()  # the report says how to check who issued it
