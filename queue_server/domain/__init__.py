"""Pure queue rules. Nothing here imports Redis, Litestar or does I/O."""
