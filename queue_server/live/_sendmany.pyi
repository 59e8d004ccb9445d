# Type stub of the optional C extension (queue_server/live/_sendmany.c): the
# same contract as fastsend.send_each_py.
import socket
from collections.abc import Sequence

def send_each(socks: Sequence[socket.socket], frame: bytes, start: int, stop: int) -> list[tuple[int, int]]: ...
