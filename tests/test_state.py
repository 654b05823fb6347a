"""Conversation state: follow-ups resolve from what the conversation said, slot by slot."""

from __future__ import annotations

from conftest import converse

from tutor.state import State, resolve
from tutor.tutor import Tutor
from tutor.understanding import Understanding

CSM = "customer-success-manager"
SUP = "customer-support-manager"


def u(**kw: object) -> Understanding:
    base = Understanding(text=str(kw.pop("text", "")), clean="")
    for k, v in kw.items():
        setattr(base, k, v)
    return base


def test_region_followup_keeps_role_and_topic() -> None:
    prev = State(role=CSM, intents=["pay"], region="United States", regions=["United States"])
    s = resolve(u(followup=True, region="Germany", regions=["Germany"]), prev, None)
    assert (s.role, s.intents, s.region) == (CSM, ["pay"], "Germany")


def test_level_followup_keeps_region() -> None:
    prev = State(role=CSM, intents=["pay"], region="Germany", regions=["Germany"])
    s = resolve(u(followup=True, level="senior"), prev, None)
    assert (s.intents, s.region, s.level) == (["pay"], "Germany", "senior")


def test_background_carries_into_a_new_question() -> None:
    prev = State(role=CSM, intents=["switch"], background="call center agent")
    s = resolve(u(intents=["time"]), prev, None)
    assert s.background == "call center agent" and s.intents == ["time"]


def test_a_role_followup_switches_role_and_keeps_topic() -> None:
    prev = State(role=CSM, intents=["pay"])
    s = resolve(u(followup=True, roles=[SUP]), prev, CSM)
    assert (s.role, s.intents) == (SUP, ["pay"])


def test_the_page_role_is_a_default_not_an_override() -> None:
    s = resolve(u(intents=["pay"], roles=[CSM]), None, SUP)
    assert s.role == CSM
    s = resolve(u(intents=["pay"], other_roles=["nurse"]), None, SUP)
    assert s.role is None  # a nurse question is not about the selected role
    s = resolve(u(intents=["pay"]), None, SUP)
    assert s.role == SUP


def test_a_new_topic_drops_the_level() -> None:
    prev = State(role=CSM, intents=["pay"], region="Germany", level="senior")
    s = resolve(u(intents=["tools"]), prev, None)
    assert s.level is None


def test_state_round_trips_through_a_dict() -> None:
    s = State(role=CSM, intents=["pay"], region="India", background="teacher", hours=5)
    assert State.from_dict(s.to_dict()) == s
    assert State.from_dict(None) is None
    assert State.from_dict({"role": CSM, "unknown_key": 1}) == State(role=CSM)


def test_a_message_pointing_back_keeps_the_last_topic() -> None:
    """ "which one should i learn first?" after a tools answer is about tools, though it reads
    like a skills question."""
    prev = State(role=CSM, intents=["tools"])
    s = resolve(u(intents=["skills"], refers_back=True), prev, None)
    assert (s.role, s.intents) == (CSM, ["tools"])
    # without the pointing words it is a new question
    assert resolve(u(intents=["skills"]), prev, None).intents == ["skills"]


def test_a_follow_up_that_changes_no_slot_asks_its_own_question(shipped: Tutor) -> None:
    """ "and how long would that take?" after "I'm a call center agent thinking about customer
    success" changes no region, level or role: it is a time question, not the last answer
    again, and it keeps the learner's background."""
    first, ans, pay, us = converse(
        shipped,
        "state-followup-time",
        "I'm a call center agent thinking about customer success",
        "and how long would that take?",
        "what does a csm earn in india",
        "and in the US?",
    )
    assert ans.answer != first.answer
    assert "time" in ans.intents
    assert "as a call center agent" in ans.answer and "6 months" in ans.answer
    # a slot change is still a follow-up on the same topic
    assert pay.intents == us.intents == ["pay"]


def test_a_city_is_where_the_learner_lives_and_a_named_topic_is_asked(shipped: Tutor) -> None:
    """From an independent reader's round: "what about pay in india? im in bangalore" after a
    switch question was answered as the switch again, "starting from bangalore", and the
    next turn opened "Coming from your work in bangalore"."""
    first, pay, nxt = converse(
        shipped,
        "state-bangalore",
        "junior dev here (1 yr, react), kinda burned out on coding. would my tech background"
        " help in customer success?",
        "what about pay in india? im in bangalore",
        "ok and what should i learn first?",
    )
    assert first.role == "customer-success-manager"  # not the support guide
    assert pay.intents == ["pay"] and "₹22L" in pay.answer, pay.answer
    assert "bangalore" not in nxt.answer.lower()


def test_what_the_learner_tells_of_themselves_does_not_lead_the_answer(shipped: Tutor) -> None:
    ans = shipped.ask("im in sales already (b2b saas, 2 yrs) does that speed it up?")
    assert not ans.answer.startswith("Most CSM jobs are at B2B SaaS companies"), ans.answer
