"""The conversation: one incoming message + the state → replies + the new state.

Pure and synchronous: no I/O, no channel. `Engine` (engine.py) loads and
saves the state around it. A message travels one way: clean → command? →
answer to the open flow question? → pick from offered options? → match the
knowledge → answer, start a flow, ask which was meant, or say plainly that it
does not know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from rapidfuzz import fuzz

from bot import cards
from bot.knowledge import Knowledge
from bot.language import from_locale, guess_language
from bot.matching import Match, Target
from bot.messages import t
from bot.model import END, Choice, Node
from bot.numbers import parse_amount
from bot.replies import Option, Reply, Response
from bot.rules import conclude, facts_read
from bot.state import ConversationState, FlowState
from bot.textnorm import plain

# Match scores are 0..1 (see matching.Matcher.search). Tuned on tests/eval.
ANSWER_SCORE = 0.35
CLARIFY_SCORE = 0.35
CLARIFY_MARGIN = 0.01
# In a flow the user is expected to answer the question; a text is taken as a new question only when
# the match is clearly better than it need be between questions.
MIDFLOW_ANSWER_SCORE = 0.55
CHOICE_SCORE = 80.0
MAX_CHARS = 2000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

COMMANDS: dict[str, set[str]] = {
    "help": {"help", "hjälp", "hjalp", "?", "/help", "/hjälp", "hjälp mig", "vad kan du", "what can you do"},
    "menu": {"meny", "menu", "/menu", "/meny", "start", "/start", "huvudmeny", "main menu"},
    "restart": {"restart", "börja om", "borja om", "/restart", "starta om", "reset", "avbryt", "cancel", "/cancel", "start over"},
    "back": {"back", "tillbaka", "/back", "ångra", "undo", "bakåt", "gå tillbaka", "go back"},
    "why": {"why", "varför", "varfor", "/why", "varför då", "why?", "varför?"},
    "sources": {"sources", "källor", "kallor", "källa", "/sources", "source", "/källor", "/kallor", "källorna"},
    "lang:sv": {"svenska", "swedish", "/lang sv", "lang sv", "språk sv", "på svenska", "in swedish"},
    "lang:en": {"english", "engelska", "/lang en", "lang en", "language en", "på engelska", "in english"},
    "lang": {"språk", "/lang", "language", "lang", "/språk", "byt språk", "change language"},
}
_COMMAND_OF = {phrase: name for name, phrases in COMMANDS.items() for phrase in phrases}
GREETINGS = {"hej", "hallå", "hallo", "hello", "hi", "hey", "tja", "tjena", "hejsan", "god morgon", "good morning", "hej hej", "hey there"}
_PLACEHOLDERS = re.compile(r"\[(personnummer|telefon|e-post)\]")  # left by privacy.redact; not words to match
_GREETING_KEYS = frozenset(plain(g) for g in GREETINGS)
_YES = ["ja", "japp", "jo", "javisst", "absolut", "yes", "y", "yep", "yeah", "sure"]
_NO = ["nej", "nä", "nope", "no", "n", "inte", "not"]


@dataclass(frozen=True)
class Decision:
    """What to do with a typed question: answer one match, or ask about candidates, or neither."""

    answer: Match | None = None
    also: list[Match] = field(default_factory=list)
    candidates: list[Match] = field(default_factory=list)


@dataclass(frozen=True)
class Incoming:
    """One thing a user did: typed text, or pressed an option (its value)."""

    text: str | None = None
    choice: str | None = None
    locale: str | None = None  # the channel's language hint, e.g. "sv-SE"


def clean(text: str) -> tuple[str, bool]:
    """Strip control and direction characters; cut very long text. Returns (text, was_cut)."""
    cut = len(text) > MAX_CHARS
    text = text[:MAX_CHARS] if cut else text
    text = _CONTROL.sub(" ", text).replace("\r", " ")
    return " ".join(text.split()), cut


def command_of(text: str) -> str | None:
    words = text.lower().strip(" .!").split()
    if words and words[0].startswith("/"):
        words[0] = words[0].split("@", 1)[0]  # Telegram groups: /help@RegellotsenBot
    return _COMMAND_OF.get(" ".join(words))


class Dialogue:
    def __init__(self, knowledge: Knowledge) -> None:
        self.k = knowledge

    # -- entry ------------------------------------------------------------

    def respond(self, state: ConversationState, incoming: Incoming) -> Response:
        prefix: list[Reply] = []
        if state.knowledge_version and state.knowledge_version != self.k.version:
            prefix += self._check_flow_still_exists(state)
        state.knowledge_version = self.k.version

        if incoming.choice is not None:
            self._set_language(state, "", incoming.locale)
            response = self._choice(state, incoming.choice)
        else:
            text, cut = clean(incoming.text or "")
            self._set_language(state, text, incoming.locale)
            if cut:
                prefix.append(Reply(t("truncated", state.lang, n=MAX_CHARS)))
            response = self._text(state, text)
        state.started = True
        response.replies[:0] = prefix
        response.lang = state.lang
        state.options = [[o.label, o.value] for o in response.options]
        return response

    def _set_language(self, state: ConversationState, text: str, locale: str | None) -> None:
        """The user's choice wins; else the first message with a clear language; else the channel's locale."""
        if state.lang_chosen or state.lang_guessed:
            return
        guess = guess_language(text) if text else None
        if guess:
            state.lang, state.lang_guessed = guess, True
        elif locale:
            state.lang = from_locale(locale) or state.lang

    def _check_flow_still_exists(self, state: ConversationState) -> list[Reply]:
        fs = state.flow
        if fs is None or fs.done:
            return []
        if self.k.node(fs.flow, fs.node) is None or any(self.k.node(fs.flow, s["node"]) is None for s in fs.history):
            state.flow = None
            return [Reply(t("restarted_after_update", state.lang))]
        return []

    # -- typed text -------------------------------------------------------

    def _text(self, state: ConversationState, text: str) -> Response:
        lang = state.lang
        if not text:
            return self._greeting(state) if not state.started else Response([Reply(t("empty", lang), options=self._menu(lang))], "notice", lang)
        command = command_of(text)
        if command is None and text.lower().startswith("/start "):
            return self._deep_link(state, text.split(" ", 1)[1].strip())
        if command is not None:
            return self._command(state, command)

        picked = self._pick_offered(state, text)
        if picked is None and plain(text) in _GREETING_KEYS:
            return self._greeting(state)  # mid-flow too: the greeting re-asks the open question
        fs = state.flow
        if fs is not None and not fs.done:
            if picked is not None:
                return self._choice(state, picked)
            return self._flow_text(state, text)
        if picked is not None:
            return self._choice(state, picked)
        return self._search(state, text)

    def _pick_offered(self, state: ConversationState, text: str) -> str | None:
        """A typed number ('2') or the exact label of an option offered last time."""
        stripped = text.strip().rstrip(".)")
        if stripped.isdecimal() and stripped.isascii() and 1 <= int(stripped) <= len(state.options):
            return state.options[int(stripped) - 1][1]
        key = plain(text)
        for label, value in state.options:
            if key and plain(label) == key:
                return value
        return None

    # -- options and commands ---------------------------------------------

    def _choice(self, state: ConversationState, value: str) -> Response:
        kind, _, rest = value.partition(":")
        if kind == "go":
            target_kind, _, target_id = rest.partition(":")
            if self._exists(target_kind, target_id):
                return self._open(state, Target(target_kind, target_id))
            return Response([Reply(t("old_button_idle", state.lang), options=self._menu(state.lang))], "notice", state.lang)
        if kind == "cmd":
            return self._command(state, rest)
        if kind == "lang":
            return self._command(state, value)
        if kind == "ans":
            return self._answer_button(state, rest)
        return Response([Reply(t("old_button_idle", state.lang), options=self._menu(state.lang))], "notice", state.lang)

    def _exists(self, kind: str, target_id: str) -> bool:
        table = {
            "topic": self.k.topics,
            "flow": self.k.flows,
            "regulation": self.k.regulations,
            "agency": self.k.agencies,
            "glossary": self.k.glossary,
            "offtopic": self.k.out_of_scope,
        }
        return target_id in table.get(kind, {})

    def _deep_link(self, state: ConversationState, payload: str) -> Response:
        """`/start PAYLOAD` (e.g. a Telegram deep link): open a flow, topic or card by id."""
        payload = payload.lower()
        for kind, table in (("flow", self.k.flows), ("topic", self.k.topics)):
            if payload in table:
                return self._open(state, Target(kind, payload))
        for fid, flow in self.k.flows.items():
            if fid.startswith(payload + "-") or payload in flow.regulations:
                return self._open(state, Target("flow", fid))
        for kind, table in (("regulation", self.k.regulations), ("agency", self.k.agencies), ("glossary", self.k.glossary)):
            if payload in table:
                return self._open(state, Target(kind, payload))
        return self._greeting(state)

    def _command(self, state: ConversationState, command: str) -> Response:
        lang = state.lang
        if command in ("menu", "start"):
            return self._greeting(state)
        if command == "help":
            return Response([Reply(t("help", lang), options=self._menu(lang))], "command", lang)
        if command == "restart":
            state.flow = None
            state.last = None
            reply = Reply(t("restarted", lang) + " " + t("menu_prompt", lang), options=self._menu(lang))
            return Response([reply], "command", lang)
        if command == "back":
            return self._back(state)
        if command == "why":
            return self._why(state)
        if command == "sources":
            return self._sources(state)
        if command == "fallback":
            return self._fallback(state)
        if command in ("lang:sv", "lang:en"):
            state.lang, state.lang_chosen = command[-2:], True
            replies = [Reply(t("lang_set", state.lang))]
            fs = state.flow
            if fs is not None and not fs.done:
                replies.append(self._node_reply(state))
            else:
                replies[0] = Reply(replies[0].text, options=self._menu(state.lang))
            return Response(replies, "command", state.lang)
        if command == "lang":
            return Response([Reply("Språk / Language", options=(Option("Svenska", "lang:sv"), Option("English", "lang:en")))], "command", lang)
        return self._greeting(state)

    def _greeting(self, state: ConversationState) -> Response:
        lang = state.lang
        options = self._menu(lang)
        replies = [Reply(t("greeting", lang), options=options)]
        fs = state.flow
        if fs is not None and not fs.done:
            replies.append(Reply(t("resume", lang)))
            replies.append(self._node_reply(state))
        return Response(replies, "greeting", lang)

    def _menu(self, lang: str) -> tuple[Option, ...]:
        return cards.menu_options(self.k, lang) + (Option(t("help_label", lang), "cmd:help"),)

    # -- matching ---------------------------------------------------------

    def _search(self, state: ConversationState, text: str) -> Response:
        decision = self.decide(self.k.matcher.search(_PLACEHOLDERS.sub(" ", text), limit=5))
        if decision.answer is not None:
            if decision.answer.target.kind == "offtopic":
                return self._fallback(state, self.k.out_of_scope[decision.answer.target.id].answer.get(state.lang))
            return self._open(state, decision.answer.target, decision.answer, decision.also)
        if decision.candidates:
            return self._clarify(state, decision.candidates)
        return self._fallback(state)

    @staticmethod
    def decide(matches: list[Match]) -> Decision:
        """Answer, ask which one was meant, or admit not knowing — never a confident guess."""
        if not matches or matches[0].score < CLARIFY_SCORE:
            return Decision()
        top = matches[0]
        group = [top] + [m for m in matches[1:] if top.score - m.score < CLARIFY_MARGIN and m.score >= CLARIFY_SCORE]
        if top.score < ANSWER_SCORE:
            return Decision(candidates=[m for m in group if m.target.kind != "offtopic"][:3])
        if len(group) == 1:
            return Decision(answer=top)
        # A near tie between one topic and other kinds (the regulation it is about, the flow that
        # works it through) is no real ambiguity: answer the topic and offer the others.
        for kind in ("topic", "regulation", "agency", "glossary", "flow", "offtopic"):
            of_kind = [m for m in group if m.target.kind == kind]
            if len(of_kind) == 1:
                return Decision(answer=of_kind[0], also=[m for m in group if m is not of_kind[0] and m.target.kind != "offtopic"])
            if of_kind:
                break
        return Decision(candidates=[m for m in group if m.target.kind != "offtopic"][:3])

    def _clarify(self, state: ConversationState, candidates: list[Match]) -> Response:
        lang = state.lang
        options = [Option(cards.target_title(self.k, m.target.kind, m.target.id, lang), f"go:{m.target.key}") for m in candidates]
        options.append(Option(t("none_of_these", lang), "cmd:fallback"))
        regs, ags = [], []
        for m in candidates:
            r, a = self._about(m.target)
            regs += r
            ags += a
        return Response([Reply(t("clarify", lang), options=tuple(options))], "clarify", lang, regulations=_unique(regs), agencies=_unique(ags))

    def _fallback(self, state: ConversationState, redirect: str | None = None) -> Response:
        """Say plainly that this is not something we can answer (and where to go, if we know)."""
        lang = state.lang
        options = list(self._menu(lang))
        for guide in ("agency-guide", "who-supervises-what"):
            option = cards.follow_option(self.k, guide, lang)
            if option and option not in options:
                options.insert(0, option)
                break
        text = t("fallback", lang) if redirect is None else redirect.strip() + "\n\n" + t("out_of_scope_menu", lang)
        replies = [Reply(text, options=tuple(options))]
        fs = state.flow
        if fs is not None and not fs.done:
            replies.append(self._node_reply(state))
        return Response(replies, "fallback", lang)

    def _about(self, target: Target) -> tuple[list[str], list[str]]:
        """The regulation and agency ids a target is about."""
        k = self.k
        if target.kind == "topic":
            return list(k.topics[target.id].regulations), list(k.topics[target.id].agencies)
        if target.kind == "flow":
            return list(k.flows[target.id].regulations), list(k.flows[target.id].agencies)
        if target.kind == "regulation":
            r = k.regulations[target.id]
            return [r.id], _unique(r.supervision + r.guidance)
        if target.kind == "agency":
            return [], [target.id]
        g = k.glossary[target.id]
        return list(g.regulations), list(g.agencies)

    def _open(self, state: ConversationState, target: Target, match: Match | None = None, also: list[Match] | None = None) -> Response:
        k, lang = self.k, state.lang
        regs, ags = self._about(target)
        if target.kind == "flow":
            return self._start_flow(state, target.id)
        if target.kind == "topic":
            reply = cards.topic_reply(k, k.topics[target.id], lang)
        elif target.kind == "regulation":
            reply = cards.regulation_reply(k, k.regulations[target.id], lang)
        elif target.kind == "agency":
            reply = cards.agency_reply(k, k.agencies[target.id], lang)
        else:
            reply = cards.glossary_reply(k, k.glossary[target.id], lang)
        if also:
            extra = [Option(cards.target_title(k, m.target.kind, m.target.id, lang), f"go:{m.target.key}") for m in also]
            reply = replace(reply, options=tuple(o for o in (*extra, *reply.options) if o.value != f"go:{target.key}")[:6])
        state.last = {"kind": target.kind, "id": target.id, "score": match.score if match else None}
        replies = [reply]
        fs = state.flow
        if fs is not None and not fs.done:
            # A question asked in the middle of a flow: answer it, then resume where we were.
            replies.append(Reply(t("resume", lang)))
            replies.append(self._node_reply(state))
        return Response(replies, "answer", lang, topic=target.id if target.kind == "topic" else None, regulations=regs, agencies=ags)

    # -- flows ------------------------------------------------------------

    def _start_flow(self, state: ConversationState, flow_id: str) -> Response:
        flow = self.k.flows[flow_id]
        state.flow = FlowState(flow=flow_id, node=flow.start)
        replies = []
        if flow.intro:
            replies.append(Reply(flow.intro.get(state.lang).strip(), title=flow.title.get(state.lang)))
        replies.append(self._node_reply(state))
        return Response(replies, "flow", state.lang, flow=flow_id, regulations=list(flow.regulations), agencies=list(flow.agencies))

    def _node_reply(self, state: ConversationState) -> Reply:
        fs = state.flow
        assert fs is not None
        flow = self.k.flows[fs.flow]
        node = self.k.node(fs.flow, fs.node)
        assert node is not None
        return cards.node_reply(self.k, flow, node, state.lang, len(fs.history) + 1, bool(fs.history))

    def _question_response(self, state: ConversationState, lead: list[Reply] | None = None) -> Response:
        fs = state.flow
        assert fs is not None
        return Response([*(lead or []), self._node_reply(state)], "question", state.lang, flow=fs.flow)

    def _answer_button(self, state: ConversationState, rest: str) -> Response:
        flow_id, node_id, choice_id = (rest.split(":") + ["", "", ""])[:3]
        fs = state.flow
        if fs is None or fs.done or fs.flow != flow_id or fs.node != node_id:
            # An old button pressed again: never let it move the conversation into another state.
            if fs is not None and not fs.done:
                return self._question_response(state, [Reply(t("stale_button", state.lang))])
            return Response([Reply(t("old_button_idle", state.lang), options=self._menu(state.lang))], "notice", state.lang)
        node = self.k.node(flow_id, node_id)
        choice = next((c for c in (node.choices or []) if c.id == choice_id), None) if node else None
        if choice is None:
            return self._question_response(state, [Reply(t("not_understood_choice", state.lang))])
        return self._apply_choice(state, node, choice)  # type: ignore[arg-type]

    def _apply_choice(self, state: ConversationState, node: Node, choice: Choice) -> Response:
        fs = state.flow
        assert fs is not None
        fs.history.append({"node": node.id, "answer": choice.id, "facts": dict(fs.facts)})
        fs.facts.update(choice.set)
        return self._advance(state, choice.next)

    def _advance(self, state: ConversationState, next_node: str) -> Response:
        fs = state.flow
        assert fs is not None
        if next_node == END:
            return self._conclude(state)
        fs.node = next_node
        return self._question_response(state)

    def _conclude(self, state: ConversationState) -> Response:
        fs = state.flow
        assert fs is not None
        flow = self.k.flows[fs.flow]
        fired = conclude(self.k.rules_for(fs.flow), fs.facts)
        fs.done = True
        state.last = {"kind": "conclusion", "flow": fs.flow, "rules": [r.id for r in fired]}
        replies = cards.conclusion_replies(self.k, flow, fired, fs.history, state.lang)
        regs = _unique([r for rule in fired for r in rule.conclude.regulations])
        ags = _unique([a for rule in fired for a in rule.conclude.agencies])
        return Response(replies, "conclusion", state.lang, flow=fs.flow, regulations=regs, agencies=ags)

    def _flow_text(self, state: ConversationState, text: str) -> Response:
        fs = state.flow
        assert fs is not None
        node = self.k.node(fs.flow, fs.node)
        assert node is not None
        if node.number is not None:
            amount = parse_amount(text)
            if amount is not None:
                fs.history.append({"node": node.id, "answer": amount, "facts": dict(fs.facts)})
                fs.facts[node.number.fact] = amount
                return self._advance(state, node.number.next)
            return self._question_or(state, text, "not_understood_number")
        choice = self._typed_choice(node, text)
        if choice is not None and len(text.split()) <= 4:
            return self._apply_choice(state, node, choice)
        # A longer text may be a question asked mid-flow; answer it if we are sure, else take the answer.
        decision = self._midflow_decision(text)
        if decision.answer is not None:
            return self._open(state, decision.answer.target, decision.answer, decision.also)
        if choice is not None:
            return self._apply_choice(state, node, choice)
        return self._not_understood(state, decision, "not_understood_choice")

    def _question_or(self, state: ConversationState, text: str, not_understood: str) -> Response:
        decision = self._midflow_decision(text)
        if decision.answer is not None:
            return self._open(state, decision.answer.target, decision.answer, decision.also)
        return self._not_understood(state, decision, not_understood)

    def _midflow_decision(self, text: str) -> Decision:
        decision = self.decide(self.k.matcher.search(_PLACEHOLDERS.sub(" ", text), limit=5))
        answer = decision.answer
        if answer is not None and (answer.target.kind == "offtopic" or answer.score < MIDFLOW_ANSWER_SCORE):
            return Decision(candidates=[] if answer.target.kind == "offtopic" else [answer, *decision.also][:3])
        return decision

    def _not_understood(self, state: ConversationState, decision: Decision, message: str) -> Response:
        """Mid-flow text that is neither an answer nor a clear question: offer what it might mean, re-ask."""
        if decision.candidates:
            clarify = self._clarify(state, decision.candidates)
            response = self._question_response(state, clarify.replies + [Reply(t("resume", state.lang))])
        else:
            response = self._question_response(state, [Reply(t(message, state.lang))])
        response.unanswered = True
        return response

    def _typed_choice(self, node: Node, text: str) -> Choice | None:
        """The choice a typed answer means, matched fuzzily against labels and synonyms."""
        key = plain(text)
        if not key:
            return None
        scored: list[tuple[float, int]] = []
        for i, choice in enumerate(node.choices or []):
            candidates = [choice.label.sv, choice.label.en, *choice.synonyms.sv, *choice.synonyms.en]
            label_key = plain(choice.label.sv)
            if choice.id in ("yes", "ja") or label_key in ("ja", "yes"):
                candidates += _YES
            if choice.id in ("no", "nej") or label_key in ("nej", "no"):
                candidates += _NO
            best = 0.0
            for cand in candidates:
                ck = plain(cand)
                if not ck:
                    continue
                if ck == key or ck in key.split():
                    best = max(best, 100.0 if ck == key else 90.0)
                else:
                    best = max(best, fuzz.WRatio(key, ck) if len(ck) > 3 else fuzz.ratio(key, ck))
            scored.append((best, i))
        scored.sort(reverse=True)
        if not scored or scored[0][0] < CHOICE_SCORE:
            return None
        if len(scored) > 1 and scored[0][0] - scored[1][0] < 5:
            return None  # two answers fit equally well: ask again rather than guess
        return (node.choices or [])[scored[0][1]]

    def _back(self, state: ConversationState) -> Response:
        fs = state.flow
        if fs is None or not fs.history:
            response = Response([Reply(t("nothing_to_go_back_to", state.lang))], "command", state.lang)
            if fs is not None and not fs.done:
                response.replies.append(self._node_reply(state))
            return response
        step = fs.history.pop()
        fs.node, fs.facts, fs.done = step["node"], step["facts"], False
        return self._question_response(state, [Reply(t("going_back", state.lang))])

    # -- explanations -----------------------------------------------------

    def _why(self, state: ConversationState) -> Response:
        k, lang = self.k, state.lang
        fs = state.flow
        if fs is not None and not fs.done:
            node = k.node(fs.flow, fs.node)
            assert node is not None
            text = (node.help.get(lang).strip() if node.help else t("why_question", lang))
            so_far = cards.answered(k, k.flows[fs.flow], fs.history, lang)
            if so_far:
                text += f"\n\n{t('answers_so_far', lang)}:\n" + "\n".join(so_far)
            return Response([Reply(text), self._node_reply(state)], "command", lang, flow=fs.flow)
        last = state.last
        if not last:
            return Response([Reply(t("why_nothing", lang), options=self._menu(lang))], "command", lang)
        if last["kind"] == "conclusion" and fs is not None and last["flow"] in k.flows:
            flow = k.flows[last["flow"]]
            rules = [r for r in k.rules_for(flow.id) if r.id in last["rules"]]
            blocks = []
            for rule in rules:
                block = rule.conclude.text.get(lang).strip()
                if rule.conclude.why:
                    block += f"\n{t('because', lang)}: {rule.conclude.why.get(lang).strip()}"
                lines = cards.answered(k, flow, fs.history, lang, set(facts_read(rule.when)))
                if lines:
                    block += f"\n{t('you_answered', lang)}:\n" + "\n".join(lines)
                blocks.append(block)
            text = t("why_conclusion", lang) + "\n\n" + ("\n\n".join(blocks) or flow.no_conclusion.get(lang))
            return Response([Reply(text)], "command", lang, flow=flow.id)
        if last["kind"] in ("topic", "regulation", "agency", "glossary") and self._exists(last["kind"], last["id"]):
            target = Target(last["kind"], last["id"])
            regs, ags = self._about(target)
            basis = ", ".join([cards.reg_label(k, r, lang) for r in regs] + [cards.agency_label(k, a, lang) for a in ags]) or "—"
            score = round(100 * last["score"]) if last.get("score") else 100
            text = t("why_topic", lang, title=cards.target_title(k, target.kind, target.id, lang), score=score, basis=basis)
            return Response([Reply(text)], "command", lang)
        return Response([Reply(t("why_nothing", lang), options=self._menu(lang))], "command", lang)

    def _sources(self, state: ConversationState) -> Response:
        k, lang = self.k, state.lang
        sources = []
        last = state.last or {}
        fs = state.flow
        if fs is not None and not fs.done:
            for rid in k.flows[fs.flow].regulations:
                sources += k.regulations[rid].sources
        elif last.get("kind") == "conclusion" and last.get("flow") in k.flows:
            for rule in k.rules_for(last["flow"]):
                if rule.id in last["rules"]:
                    sources += rule.conclude.sources
                    for rid in rule.conclude.regulations:
                        sources += k.regulations[rid].sources
        elif last.get("kind") and self._exists(last["kind"], last.get("id", "")):
            entry = {"topic": k.topics, "regulation": k.regulations, "agency": k.agencies, "glossary": k.glossary}[last["kind"]][last["id"]]
            sources += entry.sources
            for rid in getattr(entry, "regulations", []):
                sources += k.regulations[rid].sources
        if not sources:
            return Response([Reply(t("sources_nothing", lang))], "command", lang)
        cites = cards.citations(sources, lang)
        text = "\n".join(f"• {c.title}: {c.url}" for c in cites)
        return Response([Reply(text, title=t("sources", lang), citations=cites)], "command", lang)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
