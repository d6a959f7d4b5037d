"""Answers that fit a phone (issue #14), over every path of every flow in both languages:

- the first message of every conclusion is at most 1,000 visible characters and exactly one message,
  on Telegram and on Teams;
- no message is over 1,500 visible characters — the verdict, every page of why, all steps, agencies
  and sources, and every topic answer — unless the whole checklist was asked for (a document);
- at most eight buttons under any message, and every result offers its six parts.

Visible characters are counted as each channel shows them (tests/support/sizes.py): markup and
link targets do not count. Each distinct reply is rendered and measured once.
"""

from __future__ import annotations

import pytest

from adapters.telegram import MAX_BUTTONS
from bot.conversation import cards, conclusion
from bot.conversation.replies import Reply, Response
from bot.knowledge import Knowledge
from tests.support.flowpaths import every_path
from tests.support.sizes import measure

FIRST = 1000
MESSAGE = 1500
FINDING = 480  # "at most about 400": the reasoning is cut to fit, and a finding's text to no less than 180
PHONES = ("telegram", "teams")
PARTS = ["res:why", "res:steps", "res:agencies", "res:sources", "res:checklist", "cmd:restart"]


def _too_long(sizes_of: Response, limit: int) -> list[str]:
    sizes = measure(sizes_of, PHONES)
    return [f"{channel} {size}" for channel in ("telegram", "teams") for size in sizes.messages[channel] if size > limit]


@pytest.mark.slow  # every path in two languages: about a minute each
@pytest.mark.parametrize("lang", ["sv", "en"])
async def test_every_conclusion_opens_with_one_short_message_and_no_part_is_long(shipped: Knowledge, lang: str) -> None:
    problems: dict[str, str] = {}
    measured: set[str] = set()
    measured_results: set[tuple[object, ...]] = set()
    paths = await every_path(shipped, lang)
    assert len(paths) > 1000  # every path, not a sample
    for path in paths:
        where = f"{path.flow} {' '.join(path.answers)}"
        [verdict] = path.conclusion.replies
        assert [o.value for o in verdict.options] == PARTS, where
        flow, fired, history = path.result(shipped)
        fired_ids = tuple(r.id for r in fired)
        given = conclusion.answers(flow, history, lang)
        answers = tuple(a.answer for a in given)
        if (fired_ids, answers) in measured_results:
            continue  # the same findings from the same answers (an amount on the same side of every bound)
        measured_results.add((fired_ids, answers))
        for rule in fired:  # a finding, with its reasoning and the answers that decided it: about 400 characters
            if len(block := conclusion.finding_block(shipped, 10, rule, given, lang)) > FINDING:
                problems.setdefault(f"finding {rule.id}", f"{where}: finding {rule.id} has {len(block)} characters")
        sizes = measure(path.conclusion, PHONES)
        for channel in ("telegram", "teams"):
            if sizes.count(channel) != 1:
                problems.setdefault(f"count {channel}", f"{where}: {sizes.count(channel)} messages on {channel}")
            if sizes.first[channel] > FIRST:
                problems.setdefault(f"first {channel}", f"{where}: first message {sizes.first[channel]} visible characters on {channel}")
        for name in ("why", "steps", "agencies", "sources"):
            if name != "why" and (fired_ids, name) in measured_results:
                continue  # steps, agencies and sources depend on the findings only
            measured_results.add((fired_ids, name))
            for page in conclusion.part_pages(shipped, flow, fired, history, lang, name):
                key = repr(page)
                if key in measured:
                    continue
                measured.add(key)
                if len(page.options) > MAX_BUTTONS:
                    problems.setdefault(f"buttons {name}", f"{where}: {len(page.options)} buttons under {name}")
                if too_long := _too_long(Response([page], "command", lang), MESSAGE):
                    problems.setdefault(f"long {name}", f"{where}: {name} page {page.title!r}: {too_long}")
    assert problems == {}, "\n".join(problems.values())


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_topic_answer_and_question_is_one_message_of_at_most_1500(shipped: Knowledge, lang: str) -> None:
    problems = []
    replies: list[tuple[str, Reply]] = [(f"topic {tid}", cards.topic_reply(shipped, topic, lang)) for tid, topic in shipped.topics.items()]
    replies += [(f"{f.id}/{n.id}", cards.node_reply(shipped, f, n, lang, 2, True)) for f in shipped.flows.values() for n in f.nodes]
    for what, reply in replies:
        sizes = measure(Response([reply], "answer", lang), PHONES)
        if sizes.count("telegram") != 1 or sizes.count("teams") != 1 or _too_long(Response([reply], "answer", lang), MESSAGE):
            problems.append(f"{what}: {sizes.messages}")
        if len(reply.options) > MAX_BUTTONS:
            problems.append(f"{what}: {len(reply.options)} buttons")
    assert problems == [], "\n".join(problems[:20])


async def test_the_checklist_is_the_whole_result_and_the_same_on_the_same_day(shipped: Knowledge) -> None:
    """The one thing allowed to be long: the checklist, a document. Same answers, same day: same bytes."""
    path = max((p for p in await every_path(shipped, "sv") if p.flow == "triage"), key=lambda p: len(p.state.flow.facts if p.state.flow else {}))
    flow, fired, history = path.result(shipped)
    from datetime import date

    from bot.conversation import checklist

    first = checklist.documents(shipped, flow, fired, history, "sv", date(2026, 12, 2))
    again = checklist.documents(shipped, flow, list(fired), [dict(h) for h in history], "sv", date(2026, 12, 2))
    assert [(d.name, d.content) for d in first] == [(d.name, d.content) for d in again]
    other_day = checklist.documents(shipped, flow, fired, history, "sv", date(2026, 12, 3))
    assert first[0].content != other_day[0].content and first[0].name != other_day[0].name
    markdown = first[0].content.decode("utf-8")
    steps = conclusion.steps_of(fired, "sv")
    assert all(f"- [ ] {s}" in markdown for s in steps)
    assert all(r.conclude.text.get("sv").strip() in markdown for r in fired)
    assert all(shipped.agencies[a].name.sv in markdown for r in fired for a in r.conclude.agencies)
    assert shipped.version in markdown and "2026-12-02" in markdown and "juridisk rådgivning" in markdown
    assert len(markdown) > MESSAGE  # the whole result: longer than any message may be
