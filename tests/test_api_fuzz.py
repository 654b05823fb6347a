"""schemathesis over /openapi.json against a live server: no 500s, no schema violations.

The schemathesis command runs in its own process against uvicorn on 127.0.0.1, as a real
learner (cookie and CSRF token), with every default check: server errors, status codes,
content types, headers and bodies against the schema, acceptance of valid and rejection of
invalid data. Cases are seeded and bounded. Run with -s for the numbers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_support import app_for, live_server

from web.security import COOKIE_NAME

pytestmark = pytest.mark.slow

CLI = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
if CLI is None:
    pytest.skip("schemathesis is not installed (pip install -e '.[dev]')", allow_module_level=True)


def test_schemathesis_finds_no_500s_and_no_schema_violations(shipped: Any, tmp_path: Path) -> None:
    # generous rates: the fuzzer is one learner on one address sending many requests
    app = app_for(
        shipped,
        chat_rate_per_minute=100_000,
        chat_rate_per_address=100_000,
        write_rate_per_minute=100_000,
        write_rate_per_address=100_000,
    )
    report = tmp_path / "report.json"
    with live_server(app) as url:
        with httpx.Client(base_url=url) as c:
            token = c.get("/api/session").json()["csrf_token"]
            cookie = c.cookies[COOKIE_NAME]
        r = subprocess.run(
            [
                CLI,
                "run",
                f"{url}/openapi.json",
                "--header",
                f"X-CSRF-Token: {token}",
                "--header",
                f"Cookie: {COOKIE_NAME}={cookie}",
                "--max-examples",
                "20",
                "--seed",
                "20261202",
                "--max-time",
                "60",  # a bound on the whole run; the coverage phase alone could go longer
                "--workers",
                "1",
                "--request-timeout",
                "30",
                "--report",
                "json",
                "--report-json-path",
                str(report),
            ],
            capture_output=True,
            text=True,
            timeout=400,
            cwd=tmp_path,
        )
    summary = [line for line in r.stdout.splitlines() if line.strip()][-12:]
    print("\n" + "\n".join(summary))
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    data: dict[str, Any] = json.loads(report.read_text())
    cases = data["test_cases"]
    print(
        f"schemathesis: {data['operations']['tested']} operations, {cases['generated']} test "
        f"cases sent in {data['running_time']:.0f} s, {cases['with_failures']} with failures, "
        f"{len(data['errors'])} errors"
    )
    assert data["failures"] == [] and data["errors"] == []
    assert data["operations"]["tested"] == data["operations"]["total"] >= 12
