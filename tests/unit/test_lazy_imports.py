"""The reports' libraries load on first use, not when the API, the worker or
the CLI starts (they take ~110 MiB together): importing the app and building
its services leaves them out of sys.modules."""

import subprocess
import sys

HEAVY = ("pyarrow", "duckdb", "fpdf", "xlsxwriter")


def test_starting_the_app_does_not_load_the_report_libraries():
    code = (
        "import sys\n"
        "import queue_server.api.app, queue_server.bootstrap, queue_server.jobs, queue_server.cli\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_a_lazy_module_loads_on_first_use():
    code = (
        "import sys\n"
        "from queue_server.lazy import LazyModule\n"
        "m = LazyModule('xlsxwriter')\n"
        "before = 'xlsxwriter' in sys.modules\n"
        "m.Workbook\n"
        "print(before, 'xlsxwriter' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"], out.stdout + out.stderr
