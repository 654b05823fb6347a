"""Roadmap progress: states, roadmap edits, concurrent writers, migrations and next steps."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tutor.db import connect
from tutor.errors import InputError, NotFound
from tutor.migrations import MIGRATIONS, migrate
from tutor.progress import ProgressStore
from tutor.tutor import Tutor

CSM = "customer-success-manager"
SUP = "customer-support-manager"
QBRS = "csm-m-run-10-qbrs"
HEALTH = "csm-m-health-framework-adopted"
UPSELL = "csm-m-strategic-upsell"
SQL = "csm-m-sql-usage-data"
MENTOR = "csm-m-mentor-junior-csm"
PHASE1 = [QBRS, HEALTH, UPSELL]
CSM_IDS = [
    QBRS,
    HEALTH,
    UPSELL,
    "csm-m-demo-without-notes",
    SQL,
    "csm-m-5-feature-requests",
    "csm-m-own-500k-arr-book",
    "csm-m-110-nrr",
    MENTOR,
]
CYCLE: list[str | None] = ["done", "in_progress", "skipped", None]


def learner(prefix: str = "pg") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def events(db: sqlite3.Connection, who: str | None = None) -> list[sqlite3.Row]:
    if who is None:
        return db.execute("select * from progress_events order by id").fetchall()
    return db.execute(
        "select * from progress_events where learner_id = ? order by id", (who,)
    ).fetchall()


def assert_citations_valid(ans: Any) -> None:
    ns = [c.n for c in ans.citations]
    assert ns == list(range(1, len(ns) + 1))
    assert {int(m) for m in re.findall(r"\[(\d+)\]", ans.answer)} == set(ns)
    ids = {p["id"] for p in ans.passages}
    for c in ans.citations:
        if c.kind == "guide":
            assert c.chunk_id in ids


# --- states --------------------------------------------------------------------------------------


def test_states_done_in_progress_skipped_and_undo(make_tutor: Any) -> None:
    t = make_tutor()
    me = "ada"

    p = t.set_progress(me, QBRS, "done")
    assert p["states"] == {QBRS: "done"} and p["done"] == 1 and p["total"] == 9
    assert p["role"] == CSM and p["current_phase"] == "csm-p1-customer-fundamentals"

    p = t.set_progress(me, HEALTH, "in_progress")
    assert p["states"] == {QBRS: "done", HEALTH: "in_progress"} and p["done"] == 1

    p = t.set_progress(me, HEALTH, "skipped")
    assert p["states"][HEALTH] == "skipped" and p["done"] == 1

    p = t.set_progress(me, UPSELL, "done")
    assert p["done"] == 2
    assert p["current_phase"] == "csm-p2-product-depth"  # phase 1 is done or skipped

    p = t.set_progress(me, UPSELL, None)  # undo
    assert UPSELL not in p["states"] and p["done"] == 1
    assert p["current_phase"] == "csm-p1-customer-fundamentals"

    p = t.set_progress(me, QBRS, "in_progress")  # done can go back to in progress
    assert p["states"][QBRS] == "in_progress" and p["done"] == 0

    assert t.progress(me, CSM) == p
    assert t.learner_role(me) == CSM
    assert [(r["milestone_id"], r["state"]) for r in events(t.index.db, me)] == [
        (QBRS, "done"),
        (HEALTH, "in_progress"),
        (HEALTH, "skipped"),
        (UPSELL, "done"),
        (UPSELL, None),
        (QBRS, "in_progress"),
    ]


def test_undo_of_an_untouched_milestone_is_harmless(make_tutor: Any) -> None:
    t = make_tutor()
    p = t.set_progress("bo", SQL, None)
    assert p["states"] == {} and p["done"] == 0


def test_roles_keep_separate_progress(make_tutor: Any) -> None:
    t = make_tutor()
    t.set_progress("cy", QBRS, "done")
    t.set_progress("cy", "csup-m-frontline-agent-role", "done")
    assert t.progress("cy", CSM)["states"] == {QBRS: "done"}
    assert t.progress("cy", SUP)["states"] == {"csup-m-frontline-agent-role": "done"}
    assert t.progress("cy", SUP)["total"] == 13
    assert t.learner_role("cy") == SUP  # the role of the latest update


def test_bad_state_is_an_input_error(make_tutor: Any) -> None:
    t = make_tutor()
    with pytest.raises(InputError) as err:
        t.set_progress("di", QBRS, "finished")
    assert "done" in (err.value.hint or "")
    assert t.progress("di", CSM)["states"] == {}


def test_unknown_milestone_is_not_found_with_a_hint(make_tutor: Any) -> None:
    t = make_tutor()
    with pytest.raises(NotFound) as err:
        t.set_progress("ed", "csm-m-run-10-qbr", "done")
    assert "csm-m-run-10-qbr" in err.value.message
    assert err.value.hint and QBRS in err.value.hint  # "did you mean ...?"

    with pytest.raises(NotFound) as err:
        t.set_progress("ed", "zzz", "done")
    assert err.value.hint and "tutor progress show" in err.value.hint
    assert err.value.status == 404 and err.value.exit_code == 3
    assert not events(t.index.db, "ed")


def test_unknown_role_and_bad_learner(make_tutor: Any) -> None:
    t = make_tutor()
    with pytest.raises(NotFound) as err:
        t.progress("fa", "astronaut")
    assert err.value.hint and CSM in err.value.hint
    for bad in ("", "has space", "x" * 65, "semi;colon", "../etc"):
        with pytest.raises(InputError):
            t.set_progress(bad, QBRS, "done")
    with pytest.raises(InputError):
        t.set_hours("fa", 0)
    with pytest.raises(InputError):
        t.set_hours("fa", 200)


# --- a roadmap edit never loses progress ---------------------------------------------------------


def edit_roadmap(corpus: Path) -> None:
    path = corpus / "roadmaps" / "customer-success-manager.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for phase in data["phases"]:
        phase["milestones"] = [m for m in phase["milestones"] if m["id"] != MENTOR]
        if phase["id"] == "csm-p2-product-depth":
            phase["title"] = "Product and data depth"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def test_progress_survives_a_roadmap_edit(
    make_tutor: Any, copy_corpus: Path, shipped: Tutor
) -> None:
    # the shipped index serves the passages; the roadmaps come from a private copy we edit
    home = shipped.settings.home
    me = learner("edit")
    before = make_tutor(corpus=copy_corpus, home=home)
    for mid in PHASE1:
        before.set_progress(me, mid, "done")
    before.set_progress(me, SQL, "skipped")
    before.set_progress(me, MENTOR, "done")
    assert before.progress(me, CSM)["done"] == 4

    edit_roadmap(copy_corpus)
    after = make_tutor(corpus=copy_corpus, home=home)
    p = after.progress(me, CSM)

    assert p["states"] == {QBRS: "done", HEALTH: "done", UPSELL: "done", SQL: "skipped"}
    assert p["removed"] == [MENTOR]
    assert p["total"] == 8 and p["done"] == 3
    assert p["current_phase"] == "csm-p2-product-depth"
    assert after.roadmap(CSM)["phases"][1]["title"] == "Product and data depth"
    # the stored row is still there, untouched
    assert after.progress_store.states(me, CSM)[MENTOR] == "done"

    ans = after.next_steps(me, CSM)
    assert "**Product and data depth** phase" in ans.answer
    assert "no longer" in ans.answer
    assert any(c.kind == "progress" and MENTOR in c.text for c in ans.citations)
    assert_citations_valid(ans)

    # put the milestone back: its state was never dropped
    restored = make_tutor(home=home)
    assert restored.progress(me, CSM)["states"][MENTOR] == "done"
    assert restored.progress(me, CSM)["removed"] == []


def test_removed_milestone_cannot_be_updated_but_is_reported(
    make_tutor: Any, copy_corpus: Path
) -> None:
    home = copy_corpus.parent / "edit-home"
    make_tutor(corpus=copy_corpus, home=home).set_progress("gus", MENTOR, "in_progress")
    edit_roadmap(copy_corpus)
    t = make_tutor(corpus=copy_corpus, home=home)
    with pytest.raises(NotFound):
        t.set_progress("gus", MENTOR, "done")
    assert t.progress("gus", CSM)["removed"] == [MENTOR]


# --- concurrent writers --------------------------------------------------------------------------

THREADS, PER_THREAD = 8, 50


def plan(worker: int, n: int) -> list[tuple[str, str, str | None]]:
    """(learner, milestone, state) updates: odd steps on a shared learner, even on one's own."""
    out = []
    for j in range(n):
        who = "shared" if j % 2 else f"w{worker}"
        out.append((who, CSM_IDS[(worker + j) % len(CSM_IDS)], CYCLE[(worker + j) % len(CYCLE)]))
    return out


def expected_states(updates: list[tuple[str, str, str | None]]) -> dict[str, str]:
    states: dict[str, str] = {}
    for _, mid, state in updates:
        if state is None:
            states.pop(mid, None)
        else:
            states[mid] = state
    return states


def check_no_update_lost(db: sqlite3.Connection, workers: int, n: int) -> None:
    assert db.execute("select count(*) from progress_events").fetchone()[0] == workers * n
    for w in range(workers):
        mine = [u for u in plan(w, n) if u[0] == f"w{w}"]
        assert len(events(db, f"w{w}")) == len(mine)
        got = {
            r[0]: r[1]
            for r in db.execute(
                "select milestone_id, state from progress where learner_id = ?", (f"w{w}",)
            )
        }
        assert got == expected_states(mine)
    # the shared learner: each milestone's row agrees with its last event
    last: dict[str, str | None] = {}
    for r in events(db, "shared"):
        last[r["milestone_id"]] = r["state"]
    rows = {
        r[0]: r[1]
        for r in db.execute("select milestone_id, state from progress where learner_id = 'shared'")
    }
    assert rows == {m: s for m, s in last.items() if s is not None}


def test_concurrent_threads_lose_no_update(make_tutor: Any, tmp_path: Path) -> None:
    home = tmp_path / "busy-home"
    tutors = [make_tutor(home=home) for _ in range(THREADS)]  # one connection each
    assert len({id(t.index.db) for t in tutors}) == THREADS
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def run(i: int) -> None:
        try:
            start.wait()
            for who, mid, state in plan(i, PER_THREAD):
                tutors[i].set_progress(who, mid, state)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not errors, errors
    assert not any(th.is_alive() for th in threads)
    check_no_update_lost(tutors[0].index.db, THREADS, PER_THREAD)
    final = make_tutor(home=home)
    for i in range(THREADS):
        mine = [u for u in plan(i, PER_THREAD) if u[0] == f"w{i}"]
        assert final.progress(f"w{i}", CSM)["states"] == expected_states(mine)


def _process_worker(db_path: str, worker: int, n: int, go: Any) -> None:
    """Runs in a child process: its own connection, no model, no Chroma."""
    go.wait(60)
    db = connect(Path(db_path))
    store = ProgressStore(db)
    for who, mid, state in plan(worker, n):
        store.set_state(who, CSM, mid, state)
    db.close()


def test_concurrent_processes_lose_no_update(tmp_path: Path) -> None:
    db_path = tmp_path / "procs" / "tutor.db"  # fresh: the children race to migrate it too
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    procs = [
        ctx.Process(target=_process_worker, args=(str(db_path), i, PER_THREAD, go))
        for i in range(4)
    ]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]

    db = connect(db_path)
    try:
        check_no_update_lost(db, 4, PER_THREAD)
        names = [r[0] for r in db.execute("select name from _migrations order by rowid")]
        assert names == [name for name, _ in MIGRATIONS]  # each applied exactly once
    finally:
        db.close()


# --- migrations ----------------------------------------------------------------------------------


def test_migrations_are_named_and_numbered_in_order() -> None:
    names = [name for name, _ in MIGRATIONS]
    assert len(names) == len(set(names)) >= 3
    numbers = [int(re.match(r"^m(\d{3})_[a-z0-9_]+$", n).group(1)) for n in names]  # type: ignore[union-attr]
    assert numbers == list(range(1, len(names) + 1))  # appended, never reordered or renumbered


def test_migrations_are_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "m" / "tutor.db"
    first = connect(path)
    rows = first.execute("select name, applied_at from _migrations order by rowid").fetchall()
    assert [r[0] for r in rows] == [name for name, _ in MIGRATIONS]
    assert all(r[1] for r in rows)
    assert migrate(first) == []
    first.close()

    second = connect(path)
    again = second.execute("select name, applied_at from _migrations order by rowid").fetchall()
    assert [tuple(r) for r in again] == [tuple(r) for r in rows]  # not re-applied
    tables = {r[0] for r in second.execute("select name from sqlite_master where type='table'")}
    assert {"learners", "progress", "progress_events", "conversations", "messages"} <= tables
    second.close()


def test_an_old_database_gets_only_the_missing_migrations(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    db.execute("create table _migrations (name text primary key, applied_at text)")
    first_name, first_fn = MIGRATIONS[0]
    first_fn(db)
    db.execute("insert into _migrations values (?, 'then')", (first_name,))

    applied = migrate(db)

    assert applied == [name for name, _ in MIGRATIONS[1:]]
    assert (
        db.execute("select applied_at from _migrations where name = ?", (first_name,)).fetchone()[0]
        == "then"
    )
    assert migrate(db) == []
    db.close()


# --- next steps ----------------------------------------------------------------------------------


def test_next_steps_phase_order_and_citations(shipped: Tutor) -> None:
    me = learner("next")
    shipped.set_progress(me, QBRS, "done")
    shipped.set_progress(me, SQL, "in_progress")

    ans = shipped.next_steps(me)  # the role comes from the learner's records

    assert ans.role == CSM and ans.intent == "next" and not ans.abstained
    assert "1 of 9" in ans.answer
    assert "**Customer fundamentals** phase" in ans.answer
    bullets = [line for line in ans.answer.split("\n") if line.startswith("- ")]
    assert len(bullets) == 3
    assert "Pull customer usage data with SQL" in bullets[0] and "(in progress)" in bullets[0]
    assert "customer-health framework" in bullets[1]
    assert "upsell" in bullets[2]
    assert "Run at least 10 QBRs" not in ans.answer  # done: not a next step
    headings = {c.heading for c in ans.citations if c.kind == "guide"}
    assert {"Phase 1: Customer fundamentals", "Phase 2: Product depth"} <= headings
    # each bullet's reason cites the phase passage that gives it
    by_n = {c.n: c for c in ans.citations}
    for line in bullets:
        guide_cites = [by_n[int(n)] for n in re.findall(r"\[(\d+)\]", line)]
        assert any(c.kind == "guide" and c.heading.startswith("Phase") for c in guide_cites)
    progress = [c for c in ans.citations if c.kind == "progress"]
    assert any("1 of 9 milestones done" in c.text for c in progress)
    assert_citations_valid(ans)


def test_next_steps_after_phase_one(shipped: Tutor) -> None:
    me = learner("next")
    for mid in PHASE1:
        shipped.set_progress(me, mid, "done")
    ans = shipped.next_steps(me, CSM)
    assert "**Product depth** phase" in ans.answer
    assert "Demo every major product surface" in ans.answer


def pace_line(ans: Any) -> tuple[float, str]:
    m = re.search(r"I estimate about ([\d.]+) months for the roadmap", ans.answer)
    assert m, ans.answer
    calc = [c.text for c in ans.citations if c.kind == "progress" and "×" in c.text]
    assert len(calc) == 1
    return float(m.group(1)), calc[0]


def test_pace_estimate_follows_the_learners_hours(shipped: Tutor) -> None:
    me = learner("pace")
    shipped.ensure_learner(me)

    months_default, calc = pace_line(shipped.next_steps(me, CSM))
    assert months_default == 8  # the guide's own 8 months at 10 hours a week
    assert "8 × 19/19 × 10/10 = 8 months" in calc

    shipped.set_hours(me, 10)
    months10, calc10 = pace_line(shipped.next_steps(me, CSM))
    shipped.set_hours(me, 5)
    ans5 = shipped.next_steps(me, CSM)
    months5, calc5 = pace_line(ans5)

    assert months10 == 8 and months5 == 16 == 2 * months10
    assert "at 5 hours a week: 8 × 19/19 × 10/5 = 16 months" in calc5
    assert "your 5 hours a week" in ans5.answer
    assert shipped.progress(me, CSM)["hours_per_week"] == 5


def test_pace_estimate_counts_what_is_left(shipped: Tutor) -> None:
    me = learner("pace")
    for mid in PHASE1:  # weights 3 + 2 + 2 of 19
        shipped.set_progress(me, mid, "done")
    shipped.set_hours(me, 10)
    m10, calc10 = pace_line(shipped.next_steps(me, CSM))
    shipped.set_hours(me, 5)
    m5, calc5 = pace_line(shipped.next_steps(me, CSM))
    assert "12 of 19 milestone weight remains" in calc10
    assert calc10.endswith("= 5.1 months, about 5.") and calc5.endswith("= 10.1 months, about 10.")
    assert abs(m5 - 2 * m10) <= 0.1  # double, up to rounding to one decimal


def test_support_manager_roadmap_has_no_time_estimate(shipped: Tutor) -> None:
    me = learner("sup")
    shipped.set_progress(me, "csup-m-frontline-agent-role", "done")
    ans = shipped.next_steps(me, SUP)
    assert "**Frontline support experience** phase" in ans.answer
    # no plan in hours: the tutor says so instead of estimating months
    assert "no weekly-hours plan" in ans.answer
    assert not re.search(r"\d+(\.\d+)? months", ans.answer)
    assert "Zendesk" in ans.answer  # the helpdesk milestone, from the roadmap
    assert_citations_valid(ans)


def test_hours_a_roadmap_cannot_pace_are_still_acknowledged(shipped: Tutor) -> None:
    """The learner's own hours are in the record the sentence cites: the figure check once
    dropped "You've set 6 hours a week, but..." because no source held the 6."""
    me = learner("sup-hours")
    shipped.set_progress(me, "csup-m-frontline-agent-role", "done")
    shipped.set_hours(me, 6)
    ans = shipped.next_steps(me, SUP)
    assert "You've set 6 hours a week" in ans.answer
    assert "no weekly-hours plan" in ans.answer
    assert not ans.removed_sentences
    assert any("You set 6 hours a week." in c.text for c in ans.citations if c.kind != "guide")
    assert_citations_valid(ans)


def test_next_steps_when_everything_is_done(shipped: Tutor) -> None:
    me = learner("done")
    for mid in CSM_IDS:
        shipped.set_progress(me, mid, "done" if mid != MENTOR else "skipped")
    ans = shipped.next_steps(me, CSM)
    assert "finished every milestone" in ans.answer
    assert "- **" not in ans.answer  # no milestones left to list
    # what comes next is applying: the guides' advice on it, cited
    assert "apply" in ans.answer.lower()
    assert_citations_valid(ans)


def test_next_steps_needs_a_role_when_the_learner_has_none(shipped: Tutor) -> None:
    me = learner("norole")
    with pytest.raises(InputError) as err:
        shipped.next_steps(me)
    assert err.value.hint and CSM in err.value.hint and SUP in err.value.hint


def test_delete_learner_forgets_everything_and_only_them(make_tutor: Any, shipped: Any) -> None:
    t = make_tutor(home=shipped.settings.home)
    for who in ("forget-gone", "forget-kept"):
        t.set_progress(who, "csm-m-run-10-qbrs", "done")
        conv = t.new_conversation(who, CSM)["id"]
        t.ask("How much does a CSM make in Germany?", learner_id=who, conversation_id=conv)
    assert t.delete_learner("forget-gone") is True
    assert t.delete_learner("forget-gone") is False  # already forgotten
    db = t.index.db
    tables = (
        ("learners", "id"),
        ("progress", "learner_id"),
        ("progress_events", "learner_id"),
        ("conversations", "learner_id"),
    )
    for table, col in tables:
        assert (
            db.execute(f"select count(*) from {table} where {col} = 'forget-gone'").fetchone()[0]
            == 0
        )
        assert (
            db.execute(f"select count(*) from {table} where {col} = 'forget-kept'").fetchone()[0]
            >= 1
        )
    orphans = (
        "select count(*) from messages where conversation_id not in (select id from conversations)"
    )
    assert db.execute(orphans).fetchone()[0] == 0
