"""`hotline run`: clear refusal when a piece is missing; a full start on loopback, and a stop by SIGTERM or
SIGINT (Ctrl-C) with no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from hotline.processes import free_port
from hotline.settings import PROJECT_ROOT, get_settings

HOTLINE = PROJECT_ROOT / ".venv" / "bin" / "hotline"


def test_run_names_each_missing_piece_and_the_make_target_for_it(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "RASA_MODEL_DIR": str(tmp_path / "models"),
        "INDEX_DIR": str(tmp_path / "index"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'missing.db'}",
        "COLUMNS": "200",
    }
    result = subprocess.run([str(HOTLINE), "run"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    for target in ("make bot", "make index", "make db"):
        assert target in result.stdout
    assert "make run" in result.stdout


def _process_groups() -> dict[int, int]:
    """pid → process group id of every live, non-zombie process."""
    groups = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            groups[int(stat.parent.name)] = int(fields[2])
    return groups


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _listening_addresses(port: int) -> list[str]:
    lines = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout.splitlines()
    return [line.split()[3] for line in lines if line.split()[3].endswith(f":{port}")]


def _ignore_sigint() -> None:
    # What a shell does to a background job: the launcher must still stop cleanly on SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_serves_the_chat_on_loopback_and_a_signal_stops_every_process(
    stop_signal: signal.Signals, stack_database_url: str, tmp_path: Path
) -> None:
    settings = get_settings()
    if not (settings.rasa_model_dir / "hotline.tar.gz").exists():
        pytest.fail("没有训练好的 Rasa 模型：先运行 `make bot`")
    gateway_port, rasa_port, action_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": stack_database_url,
        "GATEWAY_PORT": str(gateway_port),
        "RASA_PORT": str(rasa_port),
        "ACTION_SERVER_PORT": str(action_port),
        "LOG_DIR": str(tmp_path),
        "SPOOL_DIR": str(tmp_path / "spool"),
        "COLUMNS": "200",
    }
    launcher = subprocess.Popen(
        [str(HOTLINE), "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=_ignore_sigint if stop_signal == signal.SIGINT else None,
    )
    output = []
    try:
        assert launcher.stdout
        for line in launcher.stdout:  # blocks until the launcher prints; it prints URLs once all are healthy
            output.append(line)
            if "按 Ctrl-C 停止" in line or launcher.poll() is not None:
                break
        printed = "".join(output)
        assert f"http://127.0.0.1:{gateway_port}/wechat" in printed, printed
        base = f"http://127.0.0.1:{gateway_port}"
        health = httpx.get(f"{base}/healthz", timeout=10).json()
        assert {c["status"] for c in health["components"].values()} == {"up"}, health
        token = httpx.post(f"{base}/api/session", timeout=10).json()["sender"]
        answer = httpx.post(f"{base}/api/chat", json={"sender": token, "message": "你好"}, timeout=60)
        assert answer.status_code == 200 and answer.json()
        # Residents reach Rasa and the action server only through the gateway.
        for port in (rasa_port, action_port):
            addresses = _listening_addresses(port)
            assert addresses and all(a.startswith("127.0.0.1:") for a in addresses), addresses

        services = _children(launcher.pid)
        assert len(services) == 3
        launcher.send_signal(stop_signal)
        remaining, _ = launcher.communicate(timeout=60)
        assert launcher.returncode == 0
        assert "已全部停止" in remaining
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(g in services for g in _process_groups().values()):
            time.sleep(0.2)
        assert not [p for p, g in _process_groups().items() if g in services]
    finally:
        if launcher.poll() is None:  # SIGTERM first: the launcher's own cleanup is what stops the servers
            launcher.terminate()
            try:
                launcher.wait(60)
            except subprocess.TimeoutExpired:
                launcher.kill()
