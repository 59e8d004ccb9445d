"""Pre-rendered word clips (see display/wordclips.py)."""
