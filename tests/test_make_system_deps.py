"""`make system-deps` installs Debian's chromium without its recommends (issue 9): with them,
apt pulled about 120 packages (avahi, samba libraries, cups) and upgraded systemd."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tutor.settings import PROJECT_ROOT


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_system_deps_installs_chromium_without_recommends() -> None:
    dry = subprocess.run(
        ["make", "-n", "system-deps"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert dry.returncode == 0, dry.stderr
    installs = [line for line in dry.stdout.splitlines() if "apt-get install" in line]
    assert installs, dry.stdout
    for line in installs:
        for command in line.split("apt-get install")[1:]:
            assert "--no-install-recommends" in command.split(";")[0], line
