"""The conversation: one incoming message + the state → replies + the new state.

Pure and synchronous: no I/O, no channel. `Engine` (engine.py) loads and
saves the state around it. A message travels one way: clean → command? →
answer to the open flow question? → pick from offered options? → match the
knowledge → answer, start a flow, ask which was meant, or say plainly that it
does not know.
"""

from __future__ import annotations

from dataclasses import replace

from bot.conversation import cards, urgent
from bot.conversation.commands import _ACK_KEYS, _GREETING_KEYS, _THANKS_KEYS, Commands, command_of
from bot.conversation.dialogue_base import unique
from bot.conversation.explain import Explain
from bot.conversation.flowrunner import FlowRunner
from bot.conversation.messages import t
from bot.conversation.replies import Option, Reply, Response
from bot.knowledge.kinds import BY_NAME
from bot.state.records import ConversationState
from bot.understanding.decision import AGREE, MIDFLOW_ANSWER_SCORE, SEARCH_LIMIT, SURE_SCORE, Decision, decide
from bot.understanding.fit import contradicted
from bot.understanding.followup import is_contact_question, looks_like_followup, stands_alone
from bot.understanding.matching import Match, Target
from bot.understanding.pipeline import MAX_CHARS, PLACEHOLDERS, Incoming
from bot.understanding.textnorm import plain

#: A matcher score from which a message that reads like a follow-up is still a question of its own.
OWN_QUESTION = 0.9
#: A matcher score from which an entry is offered under a re-asked flow question ("Eller menade du …?").
MIDFLOW_SUGGEST_SCORE = 0.45


class Dialogue(Commands, FlowRunner, Explain):
    """The whole conversation step: `respond(state, incoming)` → Response, mutating the state."""

    def respond(self, state: ConversationState, incoming: Incoming) -> Response:
        prefix: list[Reply] = []
        if state.knowledge_version and state.knowledge_version != self.k.version:
            prefix += self._check_flow_still_exists(state)
        state.knowledge_version = self.k.version
        self.described, state.described = state.described, {}  # it lasts one turn: the answer to the question

        if incoming.choice is not None:
            self._set_language(state, "", incoming.locale)
            response = self._choice(state, incoming.choice)
        else:
            text = incoming.text or ""  # already cut, cleaned and redacted (understanding.pipeline)
            self.message = text
            self._set_language(state, text, incoming.locale)
            if incoming.truncated:
                prefix.append(Reply(t("truncated", state.lang, n=MAX_CHARS)))
            response = urgent.first(self, state, text, lambda rest=text: self._text(state, rest))
        state.started = True
        at = 1 if response.urgent else 0  # the urgent reply stays first
        response.replies[at:at] = prefix
        response.lang = state.lang
        state.options = [[o.label, o.value] for o in response.options]
        return response

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
        if picked is not None:
            self.message = None  # "2" picks an option; it describes nothing a flow could be pre-filled from
        fs = state.flow
        if picked is None and plain(text) in _THANKS_KEYS:
            return self._thanks(state)
        if fs is not None and not fs.done and not fs.paused:
            if picked is not None:
                return self._choice(state, picked)
            return self._flow_text(state, text)  # a greeting too: it re-asks the open question
        if picked is None and plain(text) in _GREETING_KEYS:
            return self._greeting(state)
        if picked is None and plain(text) in _ACK_KEYS:
            return self._acknowledged(state)
        if picked is not None:
            return self._choice(state, picked)
        if fs is not None and not fs.done:
            resumed = self._paused_text(state, text)  # the offered flow's question answered after all
            if resumed is not None:
                return resumed
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

    def _search(self, state: ConversationState, text: str) -> Response:
        query = PLACEHOLDERS.sub(" ", text)
        state.described = {f.situation: f.words for f in self.k.situation_reader.read(query)}
        matches = self.k.matcher.search(query, limit=SEARCH_LIMIT)
        ranked = self._second(query, long=bool(matches) and matches[0].length > 0)
        second = [key for key, _ in ranked]
        decision = self._weighed_with_learned(decide(matches, second, asked=query), matches, ranked)
        decision = self._unless_contradicted(decision, query, matches)
        if self._last_entry(state) is not None:
            followup = self._followup(state, query, decision, matches)
            if followup is not None:
                return followup
        if decision.answer is not None:
            if decision.answer.target.kind == "out_of_scope":
                response = self._fallback(state, self.k.out_of_scope[decision.answer.target.id].answer.get(state.lang))
                response.target = decision.answer.target.key
                return response
            response = self._open(state, decision.answer.target, decision.answer, decision.also)
            key = decision.answer.target.key
            if state.last is not None and state.last.get("id") == decision.answer.target.id and key in second:
                state.last["second"] = second.index(key) + 1  # for `why`: where the second reading put it
                state.last["learned"] = self.k.route_model is not None
            return response
        if decision.candidates:
            # For `why`: what each reading put first, and how sure the matcher was (the reason to ask).
            first = matches[0] if matches else None
            state.last = {
                "kind": "clarify",
                "first": first.target.key if first else None,
                "score": first.score if first else None,
                "second": second[0] if second else None,
                "learned": self.k.route_model is not None,
            }
            return self._clarify(state, decision.candidates)
        return self._fallback(state)

    def _second(self, query: str, long: bool) -> list[tuple[str, float]]:
        """The second reading's ranking of target keys with their probabilities: for a long message the learned
        reading when the knowledge has one (knowledge/routing.yaml), else the whole-text index (probabilities 0).
        A short question's words are few: the whole-text index ranks them as well, and costs a fifth."""
        if self.k.route_model is None or not long:
            return [(key, 0.0) for key in self.k.fulltext.rank(query, limit=SEARCH_LIMIT)]
        return self.k.route_model.ranked(query, SEARCH_LIMIT)

    def _weighed_with_learned(self, decision: Decision, matches: list[Match], ranked: list[tuple[str, float]]) -> Decision:
        """The learned reading's say over the decision: sure of itself, it answers (an out-of-scope entry too);
        otherwise an answer it does not rank near the top becomes a question. Entries it has not learned yet
        (added since) are left to the phrasings."""
        model, routing = self.k.route_model, self.k.routing
        if model is None or routing is None or routing.model is None:
            return decision
        if not matches or matches[0].length == 0:
            # A short question is the phrasings' to read: they name its words exactly, where a model over
            # hundreds of entries spreads a keyword thin ("municipality", "AI-förordningen").
            return decision
        second = [key for key, _ in ranked]
        if not second:
            return decision
        confident, sure = routing.model.confident, ranked[0][1]
        best, answer = second[0], decision.answer
        if answer is not None and answer.target.key == best:
            return decision
        by_key = {m.target.key: m for m in matches}
        # Most of the reading's weight on areas the bot does not cover: say so, with the likeliest of them.
        outside = [(key, p) for key, p in ranked if key.startswith("out_of_scope:")]
        if outside and sum(p for _, p in outside) >= routing.model.out_of_scope:
            return Decision(answer=by_key.get(outside[0][0]) or Match(Target(*outside[0][0].split(":", 1)), outside[0][1], ""))
        learned = by_key.get(best) or Match(Target(*best.split(":", 1)), sure, "")
        nothing = answer is None and not decision.candidates
        if sure >= (2 * confident if nothing else confident):
            # Where the phrasings found nothing at all, only a surer reading answers, and never with a redirect.
            if not (nothing and learned.target.kind == "out_of_scope"):
                return Decision(answer=learned)
        if answer is None or answer.target.key not in model.known or answer.target.key in second[:AGREE] or answer.score >= SURE_SCORE:
            return decision
        # The readings disagree and neither is sure: ask which was meant, the phrasings' answer first.
        offered = [answer] + [by_key.get(k) or Match(Target(*k.split(":", 1)), 0.0, "") for k in second[:2] if k != answer.target.key]
        return Decision(candidates=[m for m in offered if m.target.kind != "out_of_scope"][:3])

    def _unless_contradicted(self, decision: Decision, query: str, matches: list[Match]) -> Decision:
        """A confident answer whose situation contradicts the message's (another setting, another kind of thing)
        becomes a question: which of the near candidates was meant."""
        answer = decision.answer
        if answer is None or answer.target.kind == "out_of_scope":
            return decision
        message = self.k.situation_reader.facets(query)
        if not message or not contradicted(answer, message, self.k.target_situations):
            return decision
        others = [m for m in matches if m is not answer and m.target.kind != "out_of_scope" and not contradicted(m, message, self.k.target_situations)]
        return Decision(candidates=[*others[:2], answer])

    def _last_entry(self, state: ConversationState) -> Target | None:
        """The entry the last answer was about, if it still exists."""
        last = state.last or {}
        kind, entry_id = last.get("kind"), last.get("id")
        if isinstance(kind, str) and isinstance(entry_id, str) and self._exists(kind, entry_id):
            return Target(kind, entry_id)
        return None

    def _followup(self, state: ConversationState, query: str, alone: Decision, matches: list[Match]) -> Response | None:
        """A short message read in the context of the last answer: whom to contact, or the same question with a change."""
        last = self._last_entry(state)
        if last is None:
            return None
        if is_contact_question(query):
            return self._contacts(state, last)
        if stands_alone(query):
            return None
        if alone.answer is not None and (not looks_like_followup(query) or alone.answer.score >= OWN_QUESTION):
            return None  # a question of its own ("and what is lex Sarah?" names its entry outright)
        if not matches:
            return None  # no word the knowledge base knows ("4 MSEK", "ok"): the change must come from the message
        # The same question with a change: search the message together with what the last answer was about.
        context = BY_NAME[last.kind].title(self.k.table(last.kind)[last.id], state.lang)
        combined = self.k.matcher.search(f"{query} {context}", limit=SEARCH_LIMIT)
        second = [key for key, _ in self._second(f"{query} {context}", long=True)]
        if all(m.target != last for m in matches):
            # The message itself does not point back to the last answer: it asks for something next to it
            # ("gäller det kommuner också?", "what about private providers?"), so the last answer is no candidate.
            combined = [m for m in combined if m.target != last]
            second = [key for key in second if key != last.key]
        decision = decide(combined, second)
        if decision.answer is None or decision.answer.target.kind == "out_of_scope":
            return None
        if alone.answer is not None and alone.answer.target == decision.answer.target:
            return None  # the message alone says as much: no context needed
        if not self._related(last, decision.answer.target):
            return None  # the context pulled towards something unrelated: not a follow-up after all
        response = self._open(state, decision.answer.target, decision.answer, decision.also)
        if state.last is not None:
            state.last["context"] = last.key
        return response

    def _related(self, a: Target, b: Target) -> bool:
        """Two entries about the same rules, or one offered as a follow-up of the other."""
        regs_a, _ = self._about(a)
        regs_b, _ = self._about(b)
        related_a = getattr(self.k.table(a.kind)[a.id], "related", [])
        return a == b or bool(set(regs_a) & set(regs_b)) or b.id in related_a

    def _contacts(self, state: ConversationState, about: Target) -> Response:
        """The agencies of the last answer, with what to contact each about and where."""
        lang = state.lang
        _, agency_ids = self._about(about)
        if not agency_ids:
            return Response([Reply(t("no_agency_for_answer", lang), options=cards.agency_guide_options(self.k, lang))], "answer", lang)
        lines = [cards.contact_line(self.k, aid, lang) for aid in agency_ids]
        agencies = [self.k.agencies[aid] for aid in agency_ids]
        cites = cards.citations([s for a in agencies for s in [*a.sources, *([a.contact.source] if a.contact else [])]], lang)
        options = tuple(Option(cards.agency_label(self.k, aid, lang), f"go:agency:{aid}") for aid in agency_ids)
        options += cards.agency_guide_options(self.k, lang)  # when the question is really another one
        title = t("contacts_for", lang, title=cards.target_title(self.k, about.kind, about.id, lang))
        reply = Reply("\n".join(lines) + "\n\n" + t("disclaimer", lang), title=title, options=options, citations=cites)
        return Response([reply], "answer", lang, agencies=list(agency_ids), target=about.key)

    def _clarify(self, state: ConversationState, candidates: list[Match]) -> Response:
        lang = state.lang
        options = [Option(cards.target_title(self.k, m.target.kind, m.target.id, lang), f"go:{m.target.key}") for m in candidates]
        options.append(Option(t("none_of_these", lang), "cmd:fallback"))
        regs, ags = [], []
        for m in candidates:
            r, a = self._about(m.target)
            regs += r
            ags += a
        return Response([Reply(t("clarify", lang), options=tuple(options))], "clarify", lang, regulations=unique(regs), agencies=unique(ags))

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
        replies = [Reply(text, options=tuple(options)), *self._offer_flow(state)]
        return Response(replies, "fallback", lang)

    def _open(self, state: ConversationState, target: Target, match: Match | None = None, also: list[Match] | None = None) -> Response:
        k, lang = self.k, state.lang
        regs, ags = self._about(target)
        if target.kind == "flow":
            return self._start_flow(state, target.id)
        reply = cards.open_entry(k, target.kind, k.table(target.kind)[target.id], lang)
        if also:
            extra = [Option(cards.target_title(k, m.target.kind, m.target.id, lang), f"go:{m.target.key}") for m in also]
            offered = {o.value: o for o in (*extra, *reply.options) if o.value != f"go:{target.key}"}
            reply = replace(reply, options=tuple(offered.values())[:6])
        state.last = {"kind": target.kind, "id": target.id, "score": match.score if match else None}
        if match is not None:
            # For `why`: the way of asking that fitted best, and what else came close.
            state.last["phrasing"] = match.phrasing
            state.last["close"] = [m.target.key for m in (also or [])][:3]
        # A question asked in the middle of a flow: answer it, then offer the flow (not force it).
        replies = [reply, *self._offer_flow(state)]
        return Response(
            replies, "answer", lang, topic=target.id if target.kind == "topic" else None, regulations=regs, agencies=ags, target=target.key
        )

    def _midflow_decision(self, text: str) -> Decision:
        decision = decide(self.k.matcher.search(PLACEHOLDERS.sub(" ", text), limit=5))
        answer = decision.answer
        if answer is not None and (answer.target.kind == "out_of_scope" or answer.score < MIDFLOW_ANSWER_SCORE):
            decision = Decision(candidates=[] if answer.target.kind == "out_of_scope" else [answer, *decision.also][:3])
        # Offered under a re-asked question only when clearly meant: one shared word ("avtal" in "nej, det finns
        # inget avtal") is no reason to offer the glossary's "personuppgiftsbiträde".
        return Decision(decision.answer, decision.also, [c for c in decision.candidates if c.score >= MIDFLOW_SUGGEST_SCORE])
