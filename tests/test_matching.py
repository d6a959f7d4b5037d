"""The matcher: typos, compounds, aliases, languages — and no match for what it does not know."""

from __future__ import annotations

from bot.knowledge import Knowledge
from bot.understanding.matching import Matcher, Rewriter, Target
from bot.understanding.textnorm import fold, plain


def top(kb: Knowledge, text: str) -> str | None:
    matches = kb.matcher.search(text)
    return matches[0].target.key if matches else None


def test_exact_phrasing_scores_highest(kb: Knowledge) -> None:
    m = kb.matcher.search("tidig marknadsdialog")
    assert m[0].target == Target("topic", "market-dialogue") and m[0].score > 0.9


def test_word_order_inflection_and_case(kb: Knowledge) -> None:
    assert top(kb, "Leverantörer – får vi PRATA med dem före upphandlingar?") == "topic:market-dialogue"


def test_typos(kb: Knowledge) -> None:
    assert top(kb, "personuppgifsincident") == "topic:data-breach"  # missing letter
    assert top(kb, "direktupphandlignsgräns") == "topic:direct-award"  # swapped letters
    assert top(kb, "lakemedelsverket") == "agency:lakemedelsverket"  # no diacritics


def test_swedish_compound_split(kb: Knowledge) -> None:
    # "upphandlingsdialog" is not in the knowledge; its parts are.
    assert kb.matcher._split_compound(kb.matcher.analyse("upphandlingsdialog")[0]) is not None


def test_aliases_are_rewritten_to_the_entity(kb: Knowledge) -> None:
    assert kb.matcher.analyse("Datainspektionen") == ("imy",)
    assert kb.matcher.analyse("lagen om offentlig upphandling") == ("lou",)
    assert top(kb, "vad gör Datainspektionen") == "agency:imy"


def test_english(kb: Knowledge) -> None:
    assert top(kb, "is our app a medical device?") == "topic:app-medical-device"
    assert top(kb, "we leaked personal data, what now") == "topic:data-breach"


def test_out_of_scope_scores_low(kb: Knowledge) -> None:
    for text in ["hur bakar man kanelbullar", "what is the weather in Lund tomorrow", "vem vann allsvenskan 2019"]:
        matches = kb.matcher.search(text)
        assert not matches or matches[0].score < 0.45, (text, matches[:1])


def test_short_words_are_not_fuzzed_into_other_words(kb: Knowledge) -> None:
    assert kb.matcher._resolve("bull") == ()  # not "boll", not anything
    assert kb.matcher._resolve("xyz") == ()


def test_four_letter_swap_is_a_typo() -> None:
    m = Matcher([(Target("topic", "g"), "gdpr regler")])
    assert m._resolve("gdrp") == (("gdpr", 0.8),)


def test_rewriter_prefers_the_longest_variant() -> None:
    r = Rewriter([("offentlig upphandling", "upphandla"), ("lagen om offentlig upphandling", "lou")])
    assert r.apply("vad säger lagen om offentlig upphandling".split()) == ["vad", "säger", "lou"]
    assert r.apply("offentlig upphandling i regionen".split()) == ["upphandla", "i", "regionen"]


def test_normalisation_helpers() -> None:
    assert fold("Läkemedelsverket åäö é") == "Lakemedelsverket aao e"
    assert plain("  Hej!!  Vad   gäller? ") == "hej vad galler"


def test_search_has_no_duplicates_and_is_sorted(kb: Knowledge) -> None:
    matches = kb.matcher.search("upphandling leverantör direktupphandling", limit=5)
    keys = [m.target.key for m in matches]
    assert len(keys) == len(set(keys))
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


def test_a_phrasing_about_another_agency_than_the_message_names_loses() -> None:
    entries = [
        (Target("topic", "socialstyrelsen-innovators"), "vad gör socialstyrelsen för innovatörer"),
        (Target("topic", "ivo-role"), "vilken roll har ivo"),
        (Target("topic", "lou-basics"), "vad säger lou om innovatörer"),
    ]
    rewrites = [("Socialstyrelsen", "socialstyrelsen"), ("Inspektionen för vård och omsorg", "ivo"), ("IVO", "ivo")]
    plain_matcher = Matcher(entries, rewrites)
    knowing = Matcher(entries, rewrites, entities={"socialstyrelsen": "agency", "ivo": "agency", "lou": "regulation"})
    question = "IVO, vad gör de för oss innovatörer?"
    # Knowing which words are agencies, a phrasing about Socialstyrelsen is not an answer to a question about IVO.
    before = {m.target.id: m.score for m in plain_matcher.search(question)}
    after = {m.target.id: m.score for m in knowing.search(question)}
    assert after["socialstyrelsen-innovators"] < 0.8 * before["socialstyrelsen-innovators"]
    assert after["ivo-role"] == before["ivo-role"] and knowing.search(question)[0].target.id == "ivo-role"
    # A law named in a phrasing is no contradiction of an agency named in the message (other kinds).
    lou = {m.target.id: m.score for m in knowing.search("vad säger LOU om innovatörer hos IVO")}
    assert lou["lou-basics"] == max(lou.values())
    # And the same agency named on both sides is the same question.
    same = knowing.search("vad gör Socialstyrelsen för innovatörer")[0]
    assert same.target.id == "socialstyrelsen-innovators" and same.score > 0.9


def test_a_how_question_gets_the_topic_a_what_is_question_the_definition(shipped: Knowledge) -> None:
    assert top(shipped, "hur anmäler vi en personuppgiftsincident") == "topic:data-breach"
    assert top(shipped, "when must we report a personal data breach") == "topic:data-breach"
    assert top(shipped, "vad är en personuppgiftsincident") == "glossary:term-personal-data-breach"
    assert top(shipped, "personuppgiftsincident") == "glossary:term-personal-data-breach"
