"""The ported original README example runs end to end (both outcomes)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "accept_timeout.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_example_times_out_while_ticker_runs() -> None:
    out = subprocess.run([sys.executable, str(EXAMPLE), str(_free_port()), "300"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    assert "waiting 0.3 seconds" in out
    assert "tick from" in out
    assert "timeout, forcing close on listener" in out
    assert out.rstrip().endswith("exiting")


def test_example_accepts_a_client() -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(EXAMPLE), str(port), "20000"],
                            stdout=subprocess.PIPE, text=True)
    got: list[bytes] = []

    def client() -> None:
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
                    got.append(c.recv(100))
                    return
            except OSError:
                time.sleep(0.05)

    th = threading.Thread(target=client)
    th.start()
    out, _ = proc.communicate(timeout=30)
    th.join(10)
    assert proc.returncode == 0
    assert got == [b"hello!\n"]
    assert "got a connection from" in out and out.rstrip().endswith("exiting")
