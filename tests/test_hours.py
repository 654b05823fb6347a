"""Hours a week are 1-80 everywhere: the store, the API, the CLI and old databases.

The page's side is in test_web_page_fixes.py (a real browser).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cli_run import run_cli
from conftest import CORPUS
from fastapi.testclient import TestClient
from web_support import app_for, csrf

from tutor.errors import InputError
from tutor.migrations import MIGRATIONS, migrate
from tutor.tutor import Tutor

CSM = "customer-success-manager"
OUT_OF_RANGE = [0, 5e-324, 0.5, 80.5, 100, -3, float("inf"), float("nan")]


@pytest.mark.parametrize("hours", OUT_OF_RANGE)
def test_store_refuses_hours_outside_1_to_80(make_tutor: Any, hours: float) -> None:
    t: Tutor = make_tutor()
    with pytest.raises(InputError) as err:
        t.set_hours("fa", hours)
    assert "1 to 80" in (err.value.hint or "")
    assert t.progress("fa", CSM)["hours_per_week"] is None  # nothing was stored


@pytest.mark.parametrize("hours", [1, 1.5, 80])
def test_store_accepts_the_bounds(make_tutor: Any, hours: float) -> None:
    t: Tutor = make_tutor()
    t.set_hours("fa", hours)
    assert t.progress("fa", CSM)["hours_per_week"] == hours


@pytest.mark.parametrize("hours", ["0", "5e-324", "100", "81", "-1", '"ten"', "null", "1e309"])
def test_api_refuses_hours_outside_1_to_80(shipped: Any, hours: str) -> None:
    with TestClient(app_for(shipped)) as c:
        csrf(c)
        r = c.put(
            "/api/hours",
            content='{"hours_per_week": ' + hours + "}",
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 400, r.text
        body = r.json()
        assert body["error"] == "bad_input" and "hours_per_week" in body["message"]
        # and the learner's next steps still work (tiny hours once made this a 500)
        r = c.post("/api/next", json={"role": CSM})
        assert r.status_code == 200, r.text
        assert c.get(f"/api/progress/{CSM}").json()["hours_per_week"] is None


def test_openapi_documents_the_bounds(shipped: Any) -> None:
    with TestClient(app_for(shipped)) as c:
        schema = c.get("/openapi.json").json()["components"]["schemas"]["HoursIn"]
    prop = schema["properties"]["hours_per_week"]
    assert prop["minimum"] == 1 and prop["maximum"] == 80


@pytest.mark.parametrize("hours", ["0", "5e-324", "100", "nan"])
def test_cli_refuses_hours_outside_1_to_80(
    monkeypatch: pytest.MonkeyPatch, embedder: Any, tmp_path: Path, hours: str
) -> None:
    r = run_cli(
        monkeypatch, embedder, tmp_path / "h", CORPUS, "progress", "--role", CSM, "hours", hours
    )
    assert r.exit_code == InputError.exit_code, r.output
    assert "out of range" in r.stderr and "1 to 80" in r.stderr


def test_an_old_database_forgets_hours_out_of_range(tmp_path: Path) -> None:
    """Values stored before the bound (5e-324, 0, 100) are cleared by a migration."""
    db = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    db.execute("create table _migrations (name text primary key, applied_at text)")
    names = [name for name, _ in MIGRATIONS]
    upto = names.index("m004_hours_in_range")
    for name, fn in MIGRATIONS[:upto]:
        fn(db)
        db.execute("insert into _migrations values (?, 'then')", (name,))
    for i, h in enumerate([5e-324, 0, 100, 6, None]):
        db.execute("insert into learners values (?, 'then', null, ?)", (f"l{i}", h))
    migrate(db)
    hours = [r[0] for r in db.execute("select hours_per_week from learners order by id")]
    assert hours == [None, None, None, 6, None]
    db.close()
