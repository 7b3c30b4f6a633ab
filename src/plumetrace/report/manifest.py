"""The package's manifest (every file with its SHA-256), its optional Ed25519 signature, and their check.

``manifest.json`` lists every file of the package except itself, its signature ``manifest.sig`` and the
``.plumetrace`` output marker. ``manifest.sig`` is the raw 64-byte Ed25519 signature of ``manifest.json``'s bytes
(the ``cryptography`` library), made with a PEM private key; :func:`verify_package` checks it with the PEM public key.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plumetrace.errors import InvalidFileError, MissingFileError

__all__ = [
    "MANIFEST",
    "SIGNATURE",
    "VerifyResult",
    "load_private_key",
    "load_public_key",
    "sha256_file",
    "sign_manifest",
    "verify_package",
    "write_manifest",
]

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
_NOT_LISTED = frozenset({MANIFEST, SIGNATURE, ".plumetrace"})
_CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _package_files(root: Path) -> list[str]:
    """Every file under ``root`` (POSIX relative paths, sorted), except the manifest, its signature and the marker."""
    files = []
    for base, dirs, names in os.walk(root):
        dirs.sort()
        for name in names:
            relative = (Path(base) / name).relative_to(root).as_posix()
            if relative not in _NOT_LISTED:
                files.append(relative)
    return sorted(files)


def write_manifest(root: str | os.PathLike, *, meta: dict[str, Any] | None = None) -> Path:
    """Write ``root/manifest.json``: ``{"files": {path: {"sha256", "bytes"}}, ...meta}``; return its path."""
    root = Path(root)
    files = {
        name: {"sha256": sha256_file(root / name), "bytes": (root / name).stat().st_size}
        for name in _package_files(root)
    }
    path = root / MANIFEST
    path.write_text(json.dumps({**(meta or {}), "algorithm": "sha256", "files": files}, indent=1) + "\n")
    return path


def load_private_key(path: str | os.PathLike, *, field_name: str = "--sign") -> Any:
    """An Ed25519 private key from a PEM file (unencrypted PKCS#8, as ``openssl genpkey -algorithm ed25519`` writes)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    data = _read_key(path, "Ed25519 private key (PEM)")
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidFileError(path, field_name, f"not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidFileError(path, field_name, f"a {type(key).__name__.lstrip('_')}, not an Ed25519 key")
    return key


def load_public_key(path: str | os.PathLike, *, field_name: str = "--public-key") -> Any:
    """An Ed25519 public key from a PEM file (``openssl pkey -pubout``)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    data = _read_key(path, "Ed25519 public key (PEM)")
    try:
        key = load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise InvalidFileError(path, field_name, f"not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidFileError(path, field_name, f"a {type(key).__name__.lstrip('_')}, not an Ed25519 key")
    return key


def _read_key(path: str | os.PathLike, what: str) -> bytes:
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, what)
    return path.read_bytes()


def sign_manifest(root: str | os.PathLike, private_key: Any) -> Path:
    """Write ``root/manifest.sig``: the Ed25519 signature of ``manifest.json``'s bytes."""
    root = Path(root)
    path = root / SIGNATURE
    path.write_bytes(private_key.sign((root / MANIFEST).read_bytes()))
    return path


@dataclass(frozen=True)
class VerifyResult:
    """What :func:`verify_package` found.

    Attributes
    ----------
    added, missing, altered : list of str
        Package-relative paths of files not in the manifest, listed but absent, and whose SHA-256 differs.
    signature : str
        ``"valid"``, ``"invalid"``, ``"absent"`` (no manifest.sig) or ``"unchecked"`` (no public key given).
    n_files : int
        Files the manifest lists.
    """

    added: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    signature: str = "unchecked"
    n_files: int = 0

    @property
    def intact(self) -> bool:
        """No file added, missing or altered, and the signature valid when one was checked."""
        return not (self.added or self.missing or self.altered) and self.signature in ("valid", "unchecked")


def verify_package(root: str | os.PathLike, *, public_key: Any = None) -> VerifyResult:
    """Compare the files under ``root`` with its ``manifest.json``; check ``manifest.sig`` with ``public_key``.

    Raises
    ------
    MissingFileError
        ``root`` is not a folder or has no manifest.json.
    InvalidFileError
        manifest.json is not a manifest this module wrote.
    """
    root = Path(root)
    if not root.is_dir():
        raise MissingFileError(root, "evidence package folder")
    path = root / MANIFEST
    if not path.is_file():
        raise MissingFileError(path, "manifest of the evidence package (not a `plumetrace report` package?)")
    raw = path.read_bytes()
    try:
        manifest = json.loads(raw)
        listed = manifest["files"]
        expected = {str(name): str(entry["sha256"]) for name, entry in listed.items()}
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidFileError(path, "files", f"not a manifest of `plumetrace report` ({exc!r})") from None
    present = set(_package_files(root))
    added = sorted(present - set(expected))
    missing = sorted(set(expected) - present)
    altered = sorted(name for name in set(expected) & present if sha256_file(root / name) != expected[name])
    signature = "unchecked"
    if public_key is not None:
        sig = root / SIGNATURE
        if not sig.is_file():
            signature = "absent"
        else:
            from cryptography.exceptions import InvalidSignature

            try:
                public_key.verify(sig.read_bytes(), raw)
                signature = "valid"
            except InvalidSignature:
                signature = "invalid"
    return VerifyResult(added, missing, altered, signature, len(expected))
