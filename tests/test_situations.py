"""Reading a message as a situation, and what the situation changes: pre-filled flows and contradicted routes."""

from __future__ import annotations

from bot.conversation.engine import Engine
from bot.knowledge import Knowledge
from bot.knowledge.model import Phrasings, Situation, Text
from bot.state import MemoryStore
from bot.understanding.fit import facets, judge
from bot.understanding.matching import Match, Target
from bot.understanding.pipeline import Incoming
from bot.understanding.situation import SituationReader


def situation(sid: str, facet: str, sv: list[str], en: list[str]) -> Situation:
    return Situation(id=sid, facet=facet, label=Text(sv=sid, en=sid), terms=Phrasings(sv=sv, en=en))  # type: ignore[arg-type]


READER = SituationReader(
    {
        "sw": situation("sw", "thing", ["app*", "programvara"], ["software"]),
        "priv": situation("priv", "who", ["privat vårdgivare"], ["private provider"]),
        "startup": situation("startup", "who", ["start-up", "startup"], ["startup"]),
    }
)


def test_terms_match_folded_whole_words_prefixes_and_phrases() -> None:
    found = {f.situation: f.words for f in READER.read("Vi har en APPAR-idé. Är vi en Privat Vårdgivare?")}
    assert found == {"sw": "appar", "priv": "privat vårdgivare"}
    assert READER.read("vi vill ha en applåd") != []  # a prefix matches any ending: declare only safe prefixes
    assert READER.read("privat") == []  # one word of a phrase is not the phrase
    assert READER.read("programvaran") == []  # no * means the whole word
    assert {f.situation for f in READER.read("we are a start-up")} == {"startup"}


def test_a_shared_value_fits_and_another_value_of_the_same_facet_contradicts() -> None:
    message = facets(READER.read("vi är en privat vårdgivare med en app"), {"sw": "thing", "priv": "who", "startup": "who"})
    assert judge(message, {"who": {"priv"}}) == (["who"], [])
    assert judge(message, {"who": {"startup"}}) == ([], ["who"])
    assert judge(message, {"setting": {"dental"}}) == ([], [])  # the message says nothing about the setting
    assert Match(Target("topic", "x"), 0.5, "p").length == 0.0


async def test_the_shipped_situations_prefill_a_flow_and_say_so(shipped: Knowledge) -> None:
    engine = Engine(shipped, MemoryStore())
    r = await engine.handle("c", Incoming(text="We are a startup with an app for home care in the municipality – which rules apply to our innovation?"))
    assert r.kind == "flow" and r.flow == "triage"
    text = r.plain_text()
    assert "you wrote “app”" in text and "Change those answers" in [o.label for o in r.options]
    undo = await engine.handle("c", Incoming(choice="cmd:unfill"))
    assert undo.kind == "question" and "What is your innovation?" in undo.plain_text()


def test_a_kind_without_a_card_of_its_own_is_shown_from_what_it_declares(shipped: Knowledge) -> None:
    from bot.conversation import cards

    entry = next(iter(shipped.glossary.values()))
    reply = cards.entry_reply(shipped, entry, "en", "glossary")
    assert reply.title == entry.term.en and entry.definition.en.strip() in reply.text
