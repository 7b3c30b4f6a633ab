"""Tiny launcher: run a command, print its wall time and peak RSS as JSON on the last line of stderr.

Run as ``python -S -I benchmarks/_launch.py CMD ...``. It exists because Linux's ``ru_maxrss`` of an exec'd child
keeps the high-water mark of the process it was forked from: forking the tool from the (large) benchmark process
would add that process's RSS to every tool. This launcher is small (~10 MB), so the tool's figure is its own.
"""

import json
import os
import sys
import time

start = time.perf_counter()
pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
wall_s = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
sys.stderr.write("\n" + json.dumps({"wall_s": wall_s, "maxrss_kib": usage.ru_maxrss, "returncode": code}) + "\n")
sys.exit(code if 0 <= code < 256 else 1)
