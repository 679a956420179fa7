"""``fangkong serve --workers 2``: two server processes share the port, each answers with the
database (SQLite's file or PostgreSQL), and stopping the parent stops them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.helpers import free_port

PASSWORD = "correct horse battery"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def _get(url: str, headers: dict[str, str] | None = None, data: bytes | None = None) -> bytes:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as resp:
        body: bytes = resp.read()
        return body


def test_two_worker_processes_serve_and_stop(fresh_db: str, tmp_path: Path) -> None:
    import json

    from fangkong.core.auth import NATIONAL, Role
    from fangkong.core.db import get_engine, session_scope
    from fangkong.core.migrate import upgrade
    from fangkong.user import service as users
    from fangkong.user.schemas import UserCreate
    from tests.conftest import make_actor

    engine = get_engine()
    upgrade(engine)
    with session_scope(engine) as session:
        users.create_user(session, actor=make_actor(), data=UserCreate(
            username="boss", role=Role.administrator, jurisdictions=[NATIONAL],
            password=PASSWORD))
    port = free_port()
    env = {**os.environ, "FANGKONG_ESCALATION_INTERVAL_SECONDS": "0"}
    exe = Path(sys.executable).with_name("fangkong")
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port), "--workers", "2"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):  # bounded: a busy machine takes a while to start Python twice
            if proc.poll() is not None:
                raise AssertionError((tmp_path / "server.log").read_text())
            try:
                _get(base + "/healthz")
                if len(_children(proc.pid)) >= 3:  # two workers and a resource tracker
                    break
            except OSError:
                pass
            time.sleep(0.1)
        workers = [p for p in _children(proc.pid)
                   if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]
        assert len(workers) == 2
        token = json.loads(_get(base + "/api/v1/auth/token",
                                data=b"username=boss&password=correct+horse+battery"))
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        for _ in range(6):  # new connections, taken by either process
            assert json.loads(_get(base + "/api/v1/users/me", auth))["username"] == "boss"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        log.close()
    assert proc.returncode == 0
    assert not any(Path(f"/proc/{p}").exists() for p in workers)
