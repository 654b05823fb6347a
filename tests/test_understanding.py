"""Understanding: intents from the labelled examples, slots from the corpus's vocabularies.

The questions here are the issue's own examples of how learners write, plus slot cases; the
intent classifier's accuracy is measured on the independent learners set by `tutor eval`.
"""

from __future__ import annotations

import pytest

from tutor.tutor import Tutor


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("csm salary in india??", "pay"),
        ("wont AI replace csms", "myths"),
        ("where do i even start", "start"),
        ("im in retail sales, can i switch?", "switch"),
        ("what goes in my portfolio", "portfolio"),
        ("How long does it take to become a CSM?", "time"),
        ("what tools does a support manager use", "tools"),
        ("hi there", "greeting"),
        ("can my employer fire me for asking about pay", "legal"),
        ("whats a good recipe for sourdough bread", "off_topic"),
    ],
)
def test_learner_phrasing_is_understood(shipped: Tutor, question: str, intent: str) -> None:
    u = shipped.coach.understand(question)
    assert intent in u.intents, (question, u.intents, u.clauses)


def test_typos_and_chat_spelling(shipped: Tutor) -> None:
    u = shipped.coach.understand("whats the sucess managers salery in the US")
    assert u.roles == ["customer-success-manager"]
    assert u.region == "United States"
    assert "pay" in u.intents


def test_a_question_with_two_intents_gets_both(shipped: Tutor) -> None:
    u = shipped.coach.understand("what does a csm earn and how long does it take to get there?")
    assert {"pay", "time"} <= set(u.intents)


def test_slots_region_level_hours(shipped: Tutor) -> None:
    u = shipped.coach.understand("entry level csm pay in berlin? i can do 5 hours a week")
    assert u.region == "Germany" and u.level == "entry" and u.hours == 5


def test_hours_a_day_become_hours_a_week(shipped: Tutor) -> None:
    assert shipped.coach.understand("i have 2 hrs a day, how long?").hours == 14


def test_us_is_not_read_from_tell_us(shipped: Tutor) -> None:
    assert shipped.coach.understand("tell us about support managers").region is None


def test_background_is_the_learner_not_the_subject(shipped: Tutor) -> None:
    u = shipped.coach.understand("I'm a teacher, could I become a CSM?")
    assert u.background == "teacher"
    assert u.roles == ["customer-success-manager"] and not u.other_roles


def test_a_role_in_the_self_description_is_a_background(shipped: Tutor) -> None:
    u = shipped.coach.understand(
        "im a customer support manager rn, can i move over to customer success manager?"
    )
    assert u.roles == ["customer-success-manager"]
    assert u.background == "customer support manager"


@pytest.mark.parametrize(
    "question",
    [
        "can i work remotely as a csm",  # asks about the role: "can i work ... as"
        "how many months till im job ready for csm",  # "for csm" is the goal, not the job
        "i'm ready to become a csm, where do i start",
    ],
)
def test_the_target_role_is_not_read_as_a_background(shipped: Tutor, question: str) -> None:
    u = shipped.coach.understand(question)
    assert u.roles == ["customer-success-manager"], u
    assert u.background is None


def test_another_job_title_is_another_role(shipped: Tutor) -> None:
    u = shipped.coach.understand("What does a nurse earn in France?")
    assert u.other_roles == ["nurse"] and not u.roles and u.region == "France"


def test_a_generic_title_alone_names_no_role(shipped: Tutor) -> None:
    assert shipped.coach.understand("should i ask my manager for training?").other_roles == []


def test_followup_without_intent_is_marked(shipped: Tutor) -> None:
    for text in ("what about Germany?", "and for senior roles?"):
        u = shipped.coach.understand(text)
        assert u.followup and not u.intents, (text, u.intents)


@pytest.mark.parametrize(
    ("question", "dimension"),
    [
        ("Which has better job growth, CSM or support manager?", "outlook"),
        ("which pays more, csm or support manager", "pay"),
        ("csm vs support manager, which is less stressful", "fit"),
        ("whats the difference between csm and support manager", None),
        # a second clause that only asks the dimension
        ("whats the difference between csm and support manager, and which one pays more", "pay"),
    ],
)
def test_a_comparison_keeps_what_it_compares(
    shipped: Tutor, question: str, dimension: str | None
) -> None:
    u = shipped.coach.understand(question)
    assert u.intents[0] == "compare", u.intents
    assert u.intents[1:] == ([dimension] if dimension else []), u.intents


def test_short_messages_that_point_back_are_marked(shipped: Tutor) -> None:
    assert shipped.coach.understand("which one should i learn first").refers_back
    assert shipped.coach.understand("ok which of those first?").refers_back
    # naming something new is a new question
    assert not shipped.coach.understand("which of those pays more in germany").refers_back


def test_two_levels_named_filter_by_neither(shipped: Tutor) -> None:
    u = shipped.coach.understand("how much do support managers make starting out vs senior")
    assert u.level is None and u.intents == ["pay"]


def test_a_profiles_names_for_another_covered_role_name_that_role(shipped: Tutor) -> None:
    """The CSM profile calls the support manager role "customer support": a comparison of
    the two is a comparison of two covered roles, not of CSM and every related job."""
    u = shipped.coach.understand(
        "whats the difference between customer success and customer support, and which one "
        "pays more?"
    )
    assert set(u.roles) == {"customer-success-manager", "customer-support-manager"}
    assert u.intents == ["compare", "pay"]
    # said of themselves, it is their background, in their own words
    u = shipped.coach.understand("im in customer support, can i move into customer success")
    assert u.roles == ["customer-success-manager"] and u.background == "customer support"


def test_yes_or_no_openers_come_from_the_taxonomy() -> None:
    from tutor.taxonomy import asks_yes_or_no

    openers = {"can", "is", "do"}
    assert asks_yes_or_no("If I start in customer success, can I move into sales later?", openers)
    assert asks_yes_or_no("is it realistic", openers)
    assert not asks_yes_or_no("what comes after csm?", openers)
    assert not asks_yes_or_no("where can i go from here", openers)


@pytest.mark.parametrize(
    "question, intents",
    [
        # a feeling is no background, and what the learner tells of themselves is not what the
        # comparison is about
        ("i'm stressed about money, is csm better paid than support manager?", ["compare", "pay"]),
        # "which suits me better?" with a background is still a switch
        (
            "I'm leaving the army after 8 years; I led a squad as a sergeant. Would support"
            " management or customer success suit me better?",
            ["compare", "switch"],
        ),
    ],
)
def test_a_comparison_keeps_its_dimension_beside_what_the_learner_says(
    shipped: Tutor, question: str, intents: list[str]
) -> None:
    assert shipped.coach.understand(question).intents == intents


def test_facets_are_read_and_checked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An intent's facets (corpus/understanding/intents.yaml) load as data; a malformed one
    names the file and the field."""
    from tutor.errors import CorpusError
    from tutor.knowledge import load_examples
    from tutor.settings import PROJECT_ROOT

    shipped = load_examples(PROJECT_ROOT / "corpus")
    assert {"cons", "pros"} <= set(shipped.facets["fit"])
    bad = tmp_path / "understanding"
    bad.mkdir()
    (bad / "intents.yaml").write_text(
        "intents:\n  fit:\n    examples: [is it for me]\n    facets:\n      cons: hardest part\n"
    )
    with pytest.raises(CorpusError, match=r"intents.yaml: intents.fit.facets"):
        load_examples(tmp_path)


def test_a_clause_is_read_without_the_feeling_it_opens_with(shipped: Tutor) -> None:
    """Only when that reading is far surer ("i'm stressed about money, is csm better paid..."
    above): "im not techy at all, is csm still an option" needs its statement to be the myth
    it is."""
    u = shipped.coach.understand("im not techy at all, is csm still an option for me")
    assert u.intents == ["myths"], u.intents


def test_a_plain_difference_question_has_no_dimension(shipped: Tutor) -> None:
    u = shipped.coach.understand(
        "whats the actual difference between customer success manager and customer support manager"
    )
    assert u.intents == ["compare"], u.intents
