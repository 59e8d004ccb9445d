"""The waiting-room display board: a static page (index.html, board.js,
live.js, announcer.js, board.css) and a generated chime."""
