"""Guided flows: start, ask, take a pressed or typed answer, go on, and conclude with the rules."""

from __future__ import annotations

from rapidfuzz import fuzz

from bot.conversation import cards
from bot.conversation.dialogue_base import DialogueBase, unique
from bot.conversation.messages import t
from bot.conversation.replies import Option, Reply, Response
from bot.knowledge.model import END, Choice, Node
from bot.knowledge.rules import conclude
from bot.state.records import ConversationState, FlowState
from bot.understanding.decision import Decision
from bot.understanding.numbers import parse_amount
from bot.understanding.textnorm import plain

CHOICE_SCORE = 80.0
_YES = ["ja", "japp", "jo", "javisst", "absolut", "yes", "y", "yep", "yeah", "sure"]
_NO = ["nej", "nä", "nope", "no", "n", "inte", "not"]


class FlowRunner(DialogueBase):
    def _start_flow(self, state: ConversationState, flow_id: str) -> Response:
        flow = self.k.flows[flow_id]
        state.flow = fs = FlowState(flow=flow_id, node=flow.start)
        replies = []
        if flow.intro:
            replies.append(Reply(flow.intro.get(state.lang).strip(), title=flow.title.get(state.lang)))
        if self.message:
            fs.given = {f.situation: f.words for f in self.k.situation_reader.read(self.message)}
        replies += self._prefilled_reply(state, fs)
        replies.append(self._node_reply(state, fs))
        return Response(
            replies, "flow", state.lang, flow=flow_id, regulations=list(flow.regulations), agencies=list(flow.agencies), target=f"flow:{flow_id}"
        )

    def _prefilled_reply(self, state: ConversationState, fs: FlowState) -> list[Reply]:
        """Pre-fill what the first message already answered, and say so with a way to change it."""
        filled = self._prefill(fs)
        if not filled:
            return []
        lines = [
            t("prefilled_line", state.lang, question=node.ask.get(state.lang).strip(), answer=choice.label.get(state.lang), words=words)
            for node, choice, words in filled
        ]
        text = t("prefilled_intro", state.lang) + "\n" + "\n".join(lines)
        return [Reply(text, options=(Option(t("prefilled_change", state.lang), "cmd:unfill"),))]

    def _prefill(self, fs: FlowState) -> list[tuple[Node, Choice, str]]:
        """Answer the questions the first message already answered: a node whose choices' situations
        (knowledge/situations.yaml) the message showed for exactly one choice. Never the last question."""
        found = fs.given
        filled: list[tuple[Node, Choice, str]] = []
        if not found:
            return filled
        for _ in self.k.flows[fs.flow].nodes:  # bounded: a flow has no loops, each node at most once
            node = self._current_node(fs)
            fits = [c for c in node.choices or [] if any(s in found for s in c.situation)]
            if len(fits) != 1 or fits[0].next == END:
                break
            choice = fits[0]
            words = next(found[s] for s in choice.situation if s in found)
            fs.history.append({"node": node.id, "answer": choice.id, "facts": dict(fs.facts), "prefilled": words})
            fs.facts.update(choice.set)
            fs.node = choice.next
            filled.append((node, choice, words))
        return filled

    def _unfill(self, state: ConversationState) -> Response:
        """Take back every answer that was filled in from the first message, and ask the first of them."""
        fs = self.open_flow(state)
        if fs is None or not any("prefilled" in step for step in fs.history):
            return Response([Reply(t("nothing_to_go_back_to", state.lang))], "command", state.lang)
        step = fs.history[0]
        while fs.history and "prefilled" in fs.history[-1]:
            step = fs.history.pop()
        fs.node, fs.facts = step["node"], step["facts"]
        fs.given = {}  # the user answers these now: do not fill them in again
        return self._question_response(state, fs, [Reply(t("prefilled_undone", state.lang))])

    def _answer_button(self, state: ConversationState, rest: str) -> Response:
        flow_id, node_id, choice_id = (rest.split(":") + ["", "", ""])[:3]
        fs = state.flow
        if fs is None or fs.done or fs.flow != flow_id or fs.node != node_id:
            # An old button pressed again: never let it move the conversation into another state.
            if fs is not None and not fs.done:
                return self._question_response(state, fs, [Reply(t("stale_button", state.lang))])
            return Response([Reply(t("old_button_idle", state.lang), options=self._menu(state.lang))], "notice", state.lang)
        node = self.k.node(flow_id, node_id)
        choice = next((c for c in (node.choices or []) if c.id == choice_id), None) if node else None
        if node is None or choice is None:
            return self._question_response(state, fs, [Reply(t("not_understood_choice", state.lang))])
        return self._apply_choice(state, node, choice)

    def _apply_choice(self, state: ConversationState, node: Node, choice: Choice) -> Response:
        fs = self._current(state)
        fs.history.append({"node": node.id, "answer": choice.id, "facts": dict(fs.facts)})
        fs.facts.update(choice.set)
        return self._advance(state, choice.next)

    def _advance(self, state: ConversationState, next_node: str) -> Response:
        fs = self._current(state)
        if next_node == END:
            return self._conclude(state)
        fs.node = next_node
        return self._question_response(state, fs, self._prefilled_reply(state, fs))

    def _conclude(self, state: ConversationState) -> Response:
        fs = self._current(state)
        flow = self.k.flows[fs.flow]
        fired = conclude(self.k.rules_for(fs.flow), fs.facts)
        fs.done = True
        state.last = {"kind": "conclusion", "flow": fs.flow, "rules": [r.id for r in fired]}
        replies = cards.conclusion_replies(self.k, flow, fired, fs.history, state.lang)
        regs = unique([r for rule in fired for r in rule.conclude.regulations])
        ags = unique([a for rule in fired for a in rule.conclude.agencies])
        return Response(replies, "conclusion", state.lang, flow=fs.flow, regulations=regs, agencies=ags)

    def _flow_text(self, state: ConversationState, text: str) -> Response:
        fs = self._current(state)
        node = self._current_node(fs)
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

    def _not_understood(self, state: ConversationState, decision: Decision, message: str) -> Response:
        """Mid-flow text that is neither an answer nor a clear question: offer what it might mean, re-ask."""
        fs = self._current(state)
        if decision.candidates:
            clarify = self._clarify(state, decision.candidates)
            response = self._question_response(state, fs, clarify.replies + [Reply(t("resume", state.lang))])
        else:
            response = self._question_response(state, fs, [Reply(t(message, state.lang))])
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
