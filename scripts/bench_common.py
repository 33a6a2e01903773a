"""What the benchmark scripts share: the repository's paths and a free loopback port."""
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINARY = ROOT / ".build" / "release" / "dalygate"


def free_port():
    """A TCP port on 127.0.0.1 that the kernel just handed out (bound, read, released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
