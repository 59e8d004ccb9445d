"""The HTTP and websocket edge (Litestar). Thin: it parses, authorises and
calls the stores."""
