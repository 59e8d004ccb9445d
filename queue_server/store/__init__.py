"""Redis access. `keys` owns the key schema; `scripts` wraps the Lua files."""
