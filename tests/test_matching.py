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
