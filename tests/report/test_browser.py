"""report.html in a real browser (headless Chromium) with the network disabled: every image loads, no request is made,
no error appears on the console, the site table sorts; a screenshot is kept as a test artifact."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

#: Injected at the top of <head> of a copy of the report: records errors, policy violations and requests, then (on
#: load) the images' sizes and the site table's order after a click on its confidence button, into <pre>.
CHECK = """<script>
(function () {
  var log = {errors: [], violations: []};
  window.addEventListener("error", function (e) {
    log.errors.push(String(e.message || (e.target && (e.target.src || e.target.tagName))).slice(0, 200));
  }, true);
  document.addEventListener("securitypolicyviolation", function (e) {
    log.violations.push(e.blockedURI + " " + e.violatedDirective);
  });
  var original = console.error;
  console.error = function () { log.errors.push(Array.prototype.join.call(arguments, " ")); original.apply(console, arguments); };
  window.addEventListener("load", function () {
    var images = Array.prototype.map.call(document.images, function (img) {
      return {width: img.naturalWidth, height: img.naturalHeight, complete: img.complete, alt: img.alt};
    });
    var order = [];
    var table = document.getElementById("site-table");
    if (table) {
      table.querySelector('button[data-col="3"]').click();
      order = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.cells[0].textContent.trim(); });
    }
    var resources = performance.getEntriesByType("resource").map(function (e) { return e.name; });
    var pre = document.createElement("pre");
    pre.id = "check-result";
    pre.textContent = JSON.stringify({images: images, errors: log.errors, violations: log.violations,
                                      resources: resources, order: order});
    document.body.appendChild(pre);
  });
})();
</script>
"""


def _chromium(chromium, tmp_path, *extra):
    from plumetrace.report.render import chromium_args

    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    args = chromium_args(chromium, str(profile)) + ["--enable-logging=stderr", "--v=0", *map(str, extra)]
    env = {"HOME": str(profile), "PATH": "/usr/bin:/bin"}
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture(scope="module")
def browser_check(package_en, chromium, tmp_path_factory):
    """The result the injected script wrote after Chromium loaded the report (offline), and Chromium's log."""
    tmp = tmp_path_factory.mktemp("browser")
    page = (package_en / "report.html").read_text(encoding="utf-8")
    checked = tmp / "check.html"
    checked.write_text(page.replace("<head>\n", "<head>\n" + CHECK, 1), encoding="utf-8")
    done = _chromium(chromium, tmp, "--dump-dom", "--virtual-time-budget=5000", checked.as_uri())
    found = re.search(r'<pre id="check-result">(.*?)</pre>', done.stdout, flags=re.S)
    assert found, f"no result from Chromium (exit {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1))), done.stderr


def test_every_image_loads(browser_check):
    result, _ = browser_check
    assert len(result["images"]) >= 5
    for image in result["images"]:
        assert image["complete"] and image["width"] > 100 and image["height"] > 100, image
        assert image["alt"]


def test_no_request_leaves_and_no_error(browser_check):
    result, log = browser_check
    assert result["resources"] == []  # not one fetch: everything is inside the file
    assert result["violations"] == []
    assert result["errors"] == []
    console = [line for line in log.splitlines() if "CONSOLE" in line]
    assert console == []


def test_site_table_sorts_by_confidence(browser_check, run_dir):
    result, _ = browser_check
    sites = pd.read_csv(run_dir / "sites" / "sites.csv")
    expected = sites.sort_values("confidence", ascending=False, kind="stable")["site_id"].tolist()
    assert result["order"] == expected


def test_screenshot_is_kept(package_en, chromium, tmp_path_factory):
    from matplotlib.image import imread

    tmp = tmp_path_factory.mktemp("screenshot")
    shot = tmp / "report.png"
    copy = tmp / "report.html"
    shutil.copyfile(package_en / "report.html", copy)
    done = _chromium(chromium, tmp, f"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars",
                     copy.as_uri())  # fmt: skip
    assert shot.is_file(), done.stderr[-2000:]
    print(f"screenshot of the report: {shot}")
    pixels = imread(shot)
    assert pixels.shape[0] == 2400 and pixels.shape[1] == 1280
    assert pixels[..., :3].std() > 0.05  # a page with content, not a blank one
