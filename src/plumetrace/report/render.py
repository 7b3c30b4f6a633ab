"""The report as one self-contained HTML file (Jinja2, gettext) and as a PDF printed by headless Chromium.

The HTML embeds its figures (``data:`` URIs), its style sheet and its script, and declares a Content Security Policy
that forbids every network request, so it opens offline and nothing leaves the reader's machine. Fonts are the
generic CSS families (no font file is needed). The PDF is Chromium's print of that HTML (``--print-to-pdf``):
Chromium is the one renderer that matches what a reader sees in a browser.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from plumetrace.errors import PlumetraceError

__all__ = ["CSP", "ChromiumError", "chromium_args", "find_chromium", "print_pdf", "render_html", "require_chromium"]

#: The report's Content Security Policy: no request of any kind; images, styles and the script are inline.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; font-src data:; "
    "connect-src 'none'; form-action 'none'; base-uri 'none'"
)
_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_INSTALL = "apt-get install chromium (Debian/Ubuntu), or set PLUMETRACE_CHROMIUM to a Chromium or Chrome binary"


class ChromiumError(PlumetraceError, RuntimeError):
    """Chromium, needed to print the PDF, is missing or failed."""


@lru_cache(maxsize=None)
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("plumetrace.report", "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )


def _asset(name: str) -> str:
    return resources.files("plumetrace.report").joinpath("templates", name).read_text(encoding="utf-8")


def render_html(context: dict[str, Any], translations: Any) -> str:
    """The report's HTML from :func:`plumetrace.report.content.report_context` and the language's translations."""
    from markupsafe import Markup

    env = _environment().overlay()
    env.install_gettext_translations(translations, newstyle=True)
    template = env.get_template("report.html")
    return template.render(**context, csp=CSP, css=Markup(_asset("report.css")), js=Markup(_asset("sort.js")))


def find_chromium() -> str | None:
    """The Chromium binary: ``$PLUMETRACE_CHROMIUM``, else the first of chromium / chrome on the PATH; None if none."""
    configured = os.environ.get("PLUMETRACE_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    for name in _CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """The Chromium binary, or :class:`ChromiumError` saying how to install it (or to give ``--no-pdf``)."""
    binary = find_chromium()
    if binary is None:
        raise ChromiumError(f"Chromium not found: the PDF needs it ({_INSTALL}); or give --no-pdf for the HTML only")
    return binary


def chromium_args(binary: str, profile: str) -> list[str]:
    """Headless Chromium with no network, no extensions, no first-run, a throw-away profile."""
    return [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--mute-audio",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
    ]


def print_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike, *, timeout_s: float = 120.0) -> Path:
    """Print ``html_path`` to ``pdf_path`` (A4) with headless Chromium; :class:`ChromiumError` when it cannot."""
    binary = require_chromium()
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    with tempfile.TemporaryDirectory(prefix="plumetrace-chromium-") as profile:
        args = chromium_args(binary, profile) + [
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=5000",
            f"--print-to-pdf={pdf_path}",
            html_path.as_uri(),
        ]
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s, env=_quiet_env(profile))
        except subprocess.TimeoutExpired:
            raise ChromiumError(f"{binary}: printing the PDF took more than {timeout_s:g} s") from None
        except OSError as exc:
            raise ChromiumError(f"{binary}: cannot run ({exc.strerror or exc})") from None
    if done.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        tail = " ".join((done.stderr or "").strip().splitlines()[-1:])
        raise ChromiumError(f"{binary}: printing the PDF failed (exit {done.returncode}) {tail}".strip())
    return pdf_path


def _quiet_env(profile: str) -> dict[str, str]:
    """Chromium's environment: its caches and config inside the throw-away profile, nothing written to $HOME."""
    env = dict(os.environ)
    env.update(HOME=profile, XDG_CONFIG_HOME=profile, XDG_CACHE_HOME=profile)
    return env
