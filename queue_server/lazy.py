"""A module imported on its first use.

The reports' libraries (pyarrow, DuckDB, fpdf2, xlsxwriter) take ~110 MiB
of memory between them; a desk PC's API process that never makes a report
should not carry them from its start."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for the module `name`: the first attribute read imports it
    (once: Python keeps it in sys.modules)."""

    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)
