"""The process supervisor behind `hotline run` and the end-to-end fixtures."""

import os
import sys
import textwrap
from pathlib import Path

import pytest

from hotline.processes import ServiceGroup, ServiceSpec, ServiceStartError, free_port

# A server that forks a worker, like Sanic and uvicorn can: stopping must take the worker down too.
SERVER_WITH_WORKER = textwrap.dedent(
    """
    import http.server, os, sys, time
    if os.fork() == 0:
        open(sys.argv[2], "w").write(str(os.getpid()))
        while True:
            time.sleep(1)
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes; /proc tells them apart.
    return "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_services_start_healthy_in_order_and_stop_without_orphans(tmp_path: Path) -> None:
    port = free_port()
    worker_pid_file = tmp_path / "worker.pid"
    spec = ServiceSpec(
        name="web",
        argv=[sys.executable, "-c", SERVER_WITH_WORKER, str(port), str(worker_pid_file)],
        health_url=f"http://127.0.0.1:{port}/",
        cwd=tmp_path,
        startup_timeout=20,
    )
    with ServiceGroup([spec], log_dir=tmp_path / "logs") as group:
        assert group.urls == {"web": f"http://127.0.0.1:{port}"}
        server_pid = group.running[0].process.pid
        worker_pid = int(worker_pid_file.read_text())
        assert _alive(server_pid) and _alive(worker_pid)
    assert not _alive(server_pid)
    assert not _alive(worker_pid)


def test_a_service_that_exits_reports_its_log(tmp_path: Path) -> None:
    spec = ServiceSpec(
        name="broken",
        argv=[sys.executable, "-c", "import sys; print('索引文件缺失'); sys.exit(3)"],
        health_url=f"http://127.0.0.1:{free_port()}/",
        cwd=tmp_path,
        startup_timeout=20,
    )
    with pytest.raises(ServiceStartError, match=r"(?s)broken exited with code 3.*索引文件缺失"):
        ServiceGroup([spec], log_dir=tmp_path).start()


def test_a_service_that_never_becomes_healthy_is_stopped(tmp_path: Path) -> None:
    spec = ServiceSpec(
        name="silent",
        argv=[sys.executable, "-c", "import time; time.sleep(60)"],
        health_url=f"http://127.0.0.1:{free_port()}/",
        cwd=tmp_path,
        startup_timeout=2,
    )
    group = ServiceGroup([spec], log_dir=tmp_path)
    with pytest.raises(ServiceStartError, match="not healthy after 2s"):
        group.start()
    assert group.running == []
