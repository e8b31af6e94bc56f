"""The Railway files describe commands that exist: each parses, and each command (with the flags
it is given) answers --help. Nothing is deployed."""

from __future__ import annotations

import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = {"railway.toml": "api", "railway.worker.toml": "worker"}


def commands(deploy: dict[str, object]) -> list[str]:
    pre = deploy.get("preDeployCommand", [])
    assert isinstance(pre, list)
    return [*pre, str(deploy["startCommand"])]


@pytest.mark.parametrize("name", FILES)
def test_each_railway_command_answers_help(name: str) -> None:
    config = tomllib.loads((ROOT / name).read_text())
    deploy = config["deploy"]
    assert deploy["restartPolicyType"] in ("ON_FAILURE", "ALWAYS")
    if FILES[name] == "api":
        assert deploy["healthcheckPath"] == "/healthz"
        assert deploy["preDeployCommand"] == ["storeline db upgrade"]
    start = shlex.split(deploy["startCommand"].replace("$PORT", "8080"))
    assert start[:2] == ["storeline", FILES[name]]
    for command in commands(deploy):
        argv = shlex.split(command.replace("$PORT", "8080"))
        assert argv[0] == "storeline"
        done = subprocess.run(
            [sys.executable, "-m", "storeline.cli", *argv[1:], "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"{command}: {done.stderr}"
        assert "usage:" in done.stdout
        # argparse stops at --help before it complains about unknown flags: check them here.
        for flag in (a for a in argv if a.startswith("--")):
            assert flag in done.stdout, f"{command}: {flag} is not a flag of this command"
