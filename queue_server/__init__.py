"""motcua: queue and appointment system for commune one-stop desks."""

__version__ = "0.1.0"
