"""deploy/'s systemd units read the way systemd reads them, so a test runs exactly their commands
with exactly their environment (nothing copied into the test that could drift from them).

The units name the install's paths; a test maps them onto this checkout: ``/opt/portal`` is the
repository, ``/opt/portal/.venv/bin/`` the running virtualenv's bin folder, and the environment
file ``/etc/portal/portal.env`` is ``deploy/portal.env.example``.
"""

from __future__ import annotations

import shlex
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = ROOT / "deploy"
INSTALL_DIR = "/opt/portal"
INSTALL_BIN = "/opt/portal/.venv/bin/"
ENVIRONMENT_FILE = "/etc/portal/portal.env"


@dataclass
class Service:
    name: str
    command: list[str]
    environment: dict[str, str]
    cwd: Path
    kill_mode: str  # control-group (systemd's default) or mixed: who gets the stop signal
    kill_signal: int
    stop_timeout: float


def read_unit(path: Path) -> dict[tuple[str, str], list[str]]:
    """``{(section, key): [values]}`` of a unit file (no line continuations used)."""
    values: dict[tuple[str, str], list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        values.setdefault((section, key.strip()), []).append(value.strip())
    return values


def read_environment_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile= takes them (comments, optional quotes)."""
    environment = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        environment[key.strip()] = value
    return environment


def local_path(path: str) -> str:
    if path.startswith(INSTALL_BIN):
        return str(Path(sys.executable).parent / path.removeprefix(INSTALL_BIN))
    if path == INSTALL_DIR or path.startswith(INSTALL_DIR + "/"):
        return str(ROOT / path.removeprefix(INSTALL_DIR).lstrip("/"))
    return path


def service(unit_name: str, instance: str = "") -> Service:
    """The command, environment and stop behaviour of ``deploy/<unit_name>`` (``%i`` =
    ``instance`` for a template unit)."""
    unit = read_unit(DEPLOY / unit_name)

    def one(key: str, default: str | None = None) -> str:
        found = unit.get(("Service", key))
        if found is None:
            assert default is not None, f"{unit_name} has no {key}="
            return default
        assert len(found) == 1, f"{unit_name}: one {key}= expected"
        return found[0].replace("%i", instance)

    environment: dict[str, str] = {}
    for env_file in unit.get(("Service", "EnvironmentFile"), []):
        assert env_file == ENVIRONMENT_FILE, f"{unit_name}: unexpected EnvironmentFile {env_file}"
        environment.update(read_environment_file(DEPLOY / "portal.env.example"))
    for assignments in unit.get(("Service", "Environment"), []):
        for assignment in shlex.split(assignments):
            key, _, value = assignment.partition("=")
            environment[key] = value
    command = [local_path(part) for part in shlex.split(one("ExecStart"))]
    return Service(
        name=unit_name.replace("@.service", f"@{instance}").removesuffix(".service"),
        command=command,
        environment=environment,
        cwd=Path(local_path(one("WorkingDirectory"))),
        kill_mode=one("KillMode", "control-group"),
        kill_signal=signal.Signals[one("KillSignal", "SIGTERM")],
        stop_timeout=float(one("TimeoutStopSec", "90")),
    )
