"""A real editor: Neovim's built-in LSP client, headless, shows the server's diagnostics."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

pytest.importorskip("pygls")

SCRIPT = Path(__file__).resolve().parent / "nvim" / "diagnostics.lua"
NVIM = shutil.which("nvim")

if NVIM is None and os.environ.get("TSL_REQUIRE_NVIM") != "1":
    pytest.skip(
        "Neovim is not installed (apt-get install neovim; TSL_REQUIRE_NVIM=1 makes this a failure)",
        allow_module_level=True,
    )


def test_neovim_shows_the_servers_diagnostics(tmp_path):
    assert NVIM is not None, "TSL_REQUIRE_NVIM=1 but nvim is not on PATH"
    project = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", project)
    (project / "pyproject.toml").write_text("[tool.timestamp-lint]\n")
    out = tmp_path / "diagnostics.txt"
    env = {
        **os.environ,
        "TSL_CMD": json.dumps([sys.executable, "-m", "timestamp_lint", "server"]),
        "TSL_FILE": str(project / "app" / "services" / "flows.py"),
        "TSL_ROOT": str(project),
        "TSL_OUT": str(out),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # no user configuration
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    command = [NVIM, "--headless", "--clean", "-n", "-i", "NONE", "-c", f"luafile {SCRIPT}"]
    process = subprocess.Popen(
        command,
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.communicate()
        pytest.fail("nvim did not finish within 120 s")
    assert process.returncode == 0, stderr.decode(errors="replace")
    lines = out.read_text().splitlines()
    assert [line.split(":", 3)[:3] for line in lines] == [
        ["14", "9", "TSL001"],
        ["15", "9", "TSL001"],
    ]
    assert "DiscoveryFlow(created_at=master.created_at) copies" in lines[0]
