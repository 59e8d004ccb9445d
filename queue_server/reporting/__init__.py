"""Renderers of finished reports: plain data in, document bytes out.

Pure: no Redis, Litestar or RQ (an import-linter contract keeps it so). The
figures come in already computed (the reports summary); this package only
lays them out.
"""
