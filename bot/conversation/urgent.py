"""Urgency first: an emergency, suicidal thoughts or a personal medical question in a typed message
is answered before anything else in the turn, then whatever else the message asked.

`Dialogue.respond` calls `first` once, around its normal handling of typed text:

- nothing urgent: the normal response, untouched;
- urgent, in the middle of a flow: the urgent reply, then the open question asked again (the text
  is not taken as an answer);
- urgent, and the message also asked something the bot can answer (a topic, a flow, a "did you
  mean"): the urgent reply first, then that answer;
- urgent and nothing else understood (or only the medical-advice redirect), or a message with no
  work, product or regulation word at all (so no regulatory question to answer: a confident
  topic answer would be a guess): the urgent reply alone, with the menu, `kind` = "urgent".

The response's `urgent` field names the kind (emergency | suicide | medical) so every channel and
test can see it; `state.last["urgency"]` keeps the deciding words for `why`.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.conversation.dialogue_base import DialogueBase
from bot.conversation.messages import t
from bot.conversation.replies import Reply, Response
from bot.knowledge.model import Source
from bot.state.records import ConversationState
from bot.understanding.textnorm import fold
from bot.understanding.urgency import Found, split_sentences

#: Responses that only say "I don't know" or redirect elsewhere: the urgent reply replaces them.
_NOTHING_ELSE = ("fallback",)


def urgent_reply(d: DialogueBase, found: Found, lang: str) -> Reply:
    u = d.k.urgency
    assert u is not None  # a detector only finds something when the knowledge has the vocabulary
    reply = getattr(u.replies, found.kind)
    # No links under it: an urgent reply is read in a hurry. `källor` / `sources` lists them.
    return Reply(reply.text.get(lang).strip(), title=t(f"urgent_{found.kind}", lang))


def without_signs(text: str, signs: tuple[str, ...]) -> str:
    """`text` without its sentences that contain one of the urgency signs' words (all of it if nothing is left)."""
    marked = [fold(s.lower()) for s in signs]
    kept = [s for s in split_sentences(text) if not any(m and m in fold(s.lower()) for m in marked)]
    rest = " ".join(kept).strip()
    return rest or text


def first(d: DialogueBase, state: ConversationState, text: str, rest: Callable[..., Response]) -> Response:
    """The response to typed `text`: `rest()` as usual, with the urgent reply first when there is one."""
    found = d.k.urgency_detector.detect(text)
    if found is None:
        response = rest()
        if response.kind != "command" and state.last and "urgency" in state.last:
            del state.last["urgency"]  # `why` explains the latest message, which was not urgent
        return response
    lang = state.lang
    lead = urgent_reply(d, found, lang)
    why = {
        "kind": found.kind,
        "signs": list(found.signs),
        "now": list(found.now),
        "context": list(found.context),
        "asks": list(found.asks),
        "learned": found.learned,
    }
    fs = d.open_flow(state)
    if fs is not None:
        response = d._question_response(state, fs, [lead, Reply(t("resume", lang))])
    else:
        # The regulatory question is read without the sentences that told of the emergency: their words
        # ("collapsed", "not breathing") would pull the reading towards triage and incident topics.
        also = rest(without_signs(text, found.signs)) if found.work else None
        if also is None or also.kind in _NOTHING_ELSE:
            response = Response([Reply(lead.text, title=lead.title, options=d._menu(lang))], "urgent", lang)
            state.last = None
        else:
            response = also
            response.replies.insert(0, lead)
    response.urgent = found.kind
    state.last = {**(state.last or {"kind": "urgent"}), "urgency": why}
    return response


_NUMBERS = {"emergency": "112 / 1177", "suicide": "112 / 90101 / 1177", "medical": "1177"}


def explain(d: DialogueBase, last: dict[str, object], lang: str) -> Reply | None:
    """For `why`: which words made the last message urgent (None when it was not)."""
    why = last.get("urgency")
    if not isinstance(why, dict):
        return None
    words = ", ".join(f"”{w}”" for w in why.get("signs", []))
    key = "why_urgent_learned" if why.get("learned") else "why_urgent"
    text = t(key, lang, numbers=_NUMBERS.get(str(why.get("kind")), "112"), words=words)
    if why.get("context") and why.get("now"):
        text += " " + t("why_urgent_context", lang, context=", ".join(f"”{w}”" for w in why["context"]), now=", ".join(f"”{w}”" for w in why["now"]))
    return Reply(text)


def sources(d: DialogueBase, last: dict[str, object]) -> list[Source]:
    """For `sources`: where the urgent reply's numbers come from."""
    why = last.get("urgency")
    if not isinstance(why, dict) or d.k.urgency is None:
        return []
    return list(getattr(d.k.urgency.replies, str(why.get("kind"))).sources)
