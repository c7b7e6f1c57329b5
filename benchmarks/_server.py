"""The fixed-answer HTTP server of the request-cost benchmark, in its own process.

Every request gets precomputed bytes chosen by its path (the query string is ignored; a POST
body is read and dropped), so the server does far less work per request than any client and
its CPU is not the client's. Two implementations, same answers:

- ``nginx`` when the ``nginx`` binary is on PATH (``return 200 '<body>'`` per location, one
  worker process, keep-alive without a request limit);
- otherwise a minimal ``asyncio.Protocol`` HTTP/1.1 keep-alive server (this file, run as
  ``python benchmarks/_server.py ANSWERS.json``), which exits when its stdin closes.

Both listen on 127.0.0.1 only. :class:`Server` starts one, reports its CPU use (from
``/proc``; ``None`` elsewhere) and always stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

REQUEST_ID = "20240701123456789012345678901234"


class Answer:
    """What one path answers: a content type and a body (always status 200)."""

    def __init__(self, content_type: str, body: bytes) -> None:
        self.content_type = content_type
        self.body = body

    def http(self) -> bytes:
        head = (
            "HTTP/1.1 200 OK\r\n"
            f"Content-Type: {self.content_type}\r\n"
            f"Content-Length: {len(self.body)}\r\n"
            f"X-Oneapi-Request-Id: {REQUEST_ID}\r\n"
            "Date: Mon, 01 Jul 2024 12:34:56 GMT\r\n"
            "Connection: keep-alive\r\n"
            "\r\n"
        )
        return head.encode("ascii") + self.body


_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"


class _FixedAnswers(asyncio.Protocol):
    """Answers each request on the connection by its path (pipelining included)."""

    answers: ClassVar[dict[bytes, bytes]] = {}

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        out: list[bytes] = []
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            length = 0
            at = head.lower().find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : stop if stop >= 0 else None])
            if len(buffer) < end + 4 + length:
                break  # the body is not all here yet
            target = head[: head.find(b"\r\n")].split(b" ", 2)[1]
            path = target.split(b"?", 1)[0]
            out.append(self.answers.get(path, _NOT_FOUND))
            buffer = buffer[end + 4 + length :]
        self._buffer = buffer
        if out and self._transport is not None:
            self._transport.write(b"".join(out) if len(out) > 1 else out[0])


async def _serve(answers_file: str) -> None:
    spec = json.loads(Path(answers_file).read_text(encoding="utf-8"))
    _FixedAnswers.answers = {
        path.encode(): Answer(a["content_type"], a["body"].encode()).http()
        for path, a in spec.items()
    }
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_FixedAnswers, "127.0.0.1", 0, backlog=2048)
    print(server.sockets[0].getsockname()[1], flush=True)
    parent_gone = loop.create_future()

    class _Stdin(asyncio.Protocol):
        def connection_lost(self, exc: Exception | None) -> None:
            if not parent_gone.done():
                parent_gone.set_result(None)

    await loop.connect_read_pipe(_Stdin, sys.stdin)
    async with server:
        await parent_gone


def _nginx_string(body: str) -> str | None:
    """``body`` as an nginx single-quoted string, or None if nginx would mangle it."""
    if "$" in body:
        return None  # would be read as a variable
    return "'" + body.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """The server child process: ``start`` it, read ``cpu_seconds``, always ``stop`` it."""

    def __init__(self, answers: Mapping[str, Answer], *, prefer_nginx: bool = True) -> None:
        self._answers = dict(answers)
        self._prefer_nginx = prefer_nginx
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self.kind = ""
        self.base_url = ""

    def start(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="api4gpt-bench-")
        nginx = shutil.which("nginx") if self._prefer_nginx else None
        if nginx and all(_nginx_string(a.body.decode()) for a in self._answers.values()):
            self._start_nginx(nginx, Path(self._dir.name))
        else:
            self._start_python(Path(self._dir.name))

    def _start_python(self, folder: Path) -> None:
        spec = {p: {"content_type": a.content_type, "body": a.body.decode()}
                for p, a in self._answers.items()}  # fmt: skip
        answers_file = folder / "answers.json"
        answers_file.write_text(json.dumps(spec), encoding="utf-8")
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), str(answers_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        if not line.isdigit():
            raise RuntimeError(f"benchmark server did not start (said {line!r})")
        self.kind = "python asyncio.Protocol (1 process)"
        self.base_url = f"http://127.0.0.1:{int(line)}"

    def _start_nginx(self, nginx: str, folder: Path) -> None:
        port = _free_port()
        locations = "\n".join(
            f"    location = {path} {{ default_type {a.content_type}; "
            f"add_header X-Oneapi-Request-Id {REQUEST_ID}; "
            f"return 200 {_nginx_string(a.body.decode())}; }}"
            for path, a in self._answers.items()
        )
        conf = folder / "nginx.conf"
        conf.write_text(
            f"""worker_processes 1;
daemon off;
master_process on;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {folder}/body;
  proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi;
  keepalive_requests 100000000;
  keepalive_timeout 600s;
  server {{
    listen 127.0.0.1:{port} backlog=2048;
{locations}
  }}
}}
""",
            encoding="utf-8",
        )
        self._proc = subprocess.Popen(
            [nginx, "-p", str(folder), "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if self._proc.poll() is not None or time.monotonic() > deadline:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                self.stop()
                raise RuntimeError(f"nginx did not start: {err.strip()}")
            time.sleep(0.05)
        version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr.strip()
        self.kind = f"{version.removeprefix('nginx version: ')} (1 worker)"
        self.base_url = f"http://127.0.0.1:{port}"

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the server and its children so far (Linux ``/proc``)."""
        if self._proc is None:
            return None
        total = 0.0
        ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        pids = [self._proc.pid]
        try:
            for pid in pids:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(stat[11]) + int(stat[12])) / ticks
                children = Path(f"/proc/{pid}/task/{pid}/children")
                if children.exists():
                    pids.extend(int(c) for c in children.read_text().split())
        except (OSError, ValueError, IndexError):
            return None
        return total

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()  # the Python server's signal to exit
            else:
                proc.terminate()  # nginx: SIGTERM is a fast shutdown
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the whole process group
        asyncio.run(_serve(sys.argv[1]))
