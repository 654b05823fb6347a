"""Follow-up questions: the offline rewrite rule, and multi-turn conversations through Tutor.ask."""

from __future__ import annotations

import re
import uuid

import pytest

from tutor.errors import InputError, NotFound
from tutor.offline import detect_roles, rewrite_followup
from tutor.tutor import Tutor

US_PAY = "How much does a CSM make in the US?"
PAY_WORDS = re.compile(r"\b(make|makes|earn|earns|pay|paid|salary)\b", re.I)
CSM_WORDS = re.compile(r"\b(CSM|customer success manager)\b", re.I)
US_WORDS = re.compile(r"\b(US|USA|U\.S\.|United States)\b")


def learner() -> str:
    return f"fu-{uuid.uuid4().hex[:10]}"


# --- the offline rewrite rule ------------------------------------------------------------------


def test_new_region_replaces_the_old_one() -> None:
    out = rewrite_followup("and in Germany?", [US_PAY])
    assert "Germany" in out
    assert PAY_WORDS.search(out) and CSM_WORDS.search(out)
    assert not US_WORDS.search(out), out
    assert out.endswith("?")


def test_region_by_city_or_adjective() -> None:
    assert "India" in rewrite_followup("and India?", [US_PAY])
    out = rewrite_followup("what about in Berlin?", [US_PAY])
    assert "Germany" in out and not US_WORDS.search(out)


def test_level_followup_keeps_role_topic_and_region() -> None:
    out = rewrite_followup("what about senior roles?", [US_PAY])
    assert "senior" in out.lower()
    assert PAY_WORDS.search(out) and CSM_WORDS.search(out)
    assert US_WORDS.search(out)  # the region still applies


def test_level_followup_after_a_region_change() -> None:
    out = rewrite_followup("what about senior roles?", ["How much does a CSM make in Germany?"])
    assert "senior" in out.lower() and "Germany" in out and CSM_WORDS.search(out)


def test_role_followup_switches_the_role() -> None:
    out = rewrite_followup("and for support managers?", [US_PAY])
    assert "customer support manager" in out.lower()
    assert not CSM_WORDS.search(out), out
    assert PAY_WORDS.search(out) and US_WORDS.search(out)
    assert detect_roles(out) == ["customer-support-manager"]


def test_topic_followup_keeps_the_role() -> None:
    prev = "How long does it take to become a customer success manager?"
    out = rewrite_followup("and in Germany?", [prev])
    assert "Germany" in out and "customer success manager" in out.lower()
    assert out.lower().startswith("how long")


@pytest.mark.parametrize(
    "question",
    [
        "How long does it take to become a customer support manager?",
        "What tools should a customer support manager learn?",
        "How much does a customer success manager make in India?",
    ],
)
def test_full_new_question_is_left_alone(question: str) -> None:
    assert rewrite_followup(question, [US_PAY]) == question


def test_without_history_nothing_changes() -> None:
    assert rewrite_followup("and in Germany?", []) == "and in Germany?"


def test_only_the_last_question_counts() -> None:
    out = rewrite_followup(
        "and in Germany?", ["What tools does a CSM use?", "How much does a CSM make in India?"]
    )
    assert "Germany" in out and "India" not in out and PAY_WORDS.search(out)


# --- a conversation through the Tutor ----------------------------------------------------------


def test_multi_turn_conversation(shipped: Tutor) -> None:
    me = learner()
    first = shipped.ask(US_PAY, learner_id=me)
    cid = first.conversation_id
    assert cid
    assert "$110k" in first.answer or "$111,717" in first.answer

    second = shipped.ask("and in Germany?", learner_id=me, conversation_id=cid)
    assert second.conversation_id == cid
    assert second.question == "and in Germany?"
    assert "Germany" in second.standalone_question
    assert not US_WORDS.search(second.standalone_question)
    assert second.role == "customer-success-manager"
    assert not second.abstained
    assert "€55,000" in second.answer or "$63,300" in second.answer, second.answer
    assert "$110k" not in second.answer and "$111,717" not in second.answer

    third = shipped.ask("what about senior roles?", learner_id=me, conversation_id=cid)
    assert "Germany" in third.standalone_question and "senior" in third.standalone_question
    assert "€70,000–€85,000" in third.answer, third.answer

    # and the support-manager guide has no German pay at all: the follow-up abstains
    fourth = shipped.ask("and for support managers?", learner_id=me, conversation_id=cid)
    assert fourth.role == "customer-support-manager", fourth.standalone_question
    assert fourth.abstained, fourth.answer
    assert "€" not in fourth.answer

    conv = shipped.conversation(me, cid)
    msgs = conv["messages"]
    assert [m["sender"] for m in msgs] == ["user", "assistant"] * 4
    assert [m["content"] for m in msgs[::2]] == [
        US_PAY,
        "and in Germany?",
        "what about senior roles?",
        "and for support managers?",
    ]
    assert msgs[1]["content"] == first.answer and msgs[3]["content"] == second.answer
    assert msgs[3]["answer"]["standalone_question"] == second.standalone_question
    assert msgs[3]["answer"]["citations"] == second.to_dict()["citations"]
    assert msgs[0]["answer"] is None
    assert conv["title"] == US_PAY
    assert conv["role"] == "customer-success-manager"
    assert [c["id"] for c in shipped.conversations(me)] == [cid]


def test_each_new_ask_without_a_conversation_starts_one(shipped: Tutor) -> None:
    me = learner()
    a = shipped.ask(US_PAY, learner_id=me)
    b = shipped.ask("and in Germany?", learner_id=me)  # no conversation: nothing to follow
    assert a.conversation_id != b.conversation_id
    assert b.standalone_question == "and in Germany?"
    listed = [c["id"] for c in shipped.conversations(me)]
    assert sorted(listed) == sorted([a.conversation_id, b.conversation_id])
    assert listed[0] == b.conversation_id  # newest first


def test_conversation_role_carries_to_a_vague_question(shipped: Tutor) -> None:
    me = learner()
    conv = shipped.new_conversation(me, role="customer-support-manager")
    ans = shipped.ask("What does the median earn?", learner_id=me, conversation_id=conv["id"])
    assert ans.role == "customer-support-manager"
    assert "$85,000" in ans.answer


def test_another_learner_cannot_read_or_continue_it(shipped: Tutor) -> None:
    owner, other = learner(), learner()
    cid = shipped.ask(US_PAY, learner_id=owner).conversation_id
    assert cid
    shipped.ensure_learner(other)

    with pytest.raises(NotFound) as err:
        shipped.conversation(other, cid)
    assert err.value.hint
    with pytest.raises(NotFound):
        shipped.ask("and in Germany?", learner_id=other, conversation_id=cid)
    assert cid not in [c["id"] for c in shipped.conversations(other)]
    # the refusal changed nothing for the owner
    assert len(shipped.conversation(owner, cid)["messages"]) == 2


def test_unknown_conversation_id_is_not_found(shipped: Tutor) -> None:
    with pytest.raises(NotFound):
        shipped.conversation(learner(), "0" * 24)


def test_conversation_without_learner_is_rejected(shipped: Tutor) -> None:
    with pytest.raises(InputError) as err:
        shipped.ask("and in Germany?", conversation_id="abc")
    assert err.value.hint
