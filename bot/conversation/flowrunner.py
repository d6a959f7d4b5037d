"""Guided flows: start, ask, take a pressed or typed answer, go on, and conclude with the rules."""

from __future__ import annotations

from dataclasses import replace

from bot.conversation import cards, conclusion
from bot.conversation.dialogue_base import DialogueBase, unique
from bot.conversation.messages import t
from bot.conversation.replies import Option, Reply, Response
from bot.knowledge.flowwalk import derive_facts, skipped_choice
from bot.knowledge.model import END, Choice, Node
from bot.knowledge.rules import conclude
from bot.state.records import ConversationState, FlowState
from bot.understanding.answers import Reading, read_answer
from bot.understanding.decision import Decision


class FlowRunner(DialogueBase):
    def _start_flow(self, state: ConversationState, flow_id: str) -> Response:
        flow = self.k.flows[flow_id]
        state.flow = fs = FlowState(flow=flow_id, node=flow.start)
        replies = []
        if flow.intro:
            replies.append(Reply(flow.intro.get(state.lang).strip(), title=flow.title.get(state.lang)))
        if self.message:
            fs.given = {f.situation: f.words for f in self.k.situation_reader.read(self.message)}
        else:
            fs.given = dict(self.described)  # picked from the reply to the previous message
        replies += self._prefilled_reply(state, fs)
        replies.append(self._node_reply(state, fs))
        replies = question_options_first(replies)
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

    def _apply_choice(self, state: ConversationState, node: Node, choice: Choice, read: list[str] | None = None) -> Response:
        fs = self._current(state)
        fs.paused = False
        step = {"node": node.id, "answer": choice.id, "facts": dict(fs.facts)}
        if read:
            step["read"] = read  # how a typed answer was read, shown by `why` and in the conclusion
        fs.history.append(step)
        fs.facts.update(choice.set)
        return self._advance(state, choice.next)

    def _advance(self, state: ConversationState, next_node: str) -> Response:
        fs = self._current(state)
        flow = self.k.flows[fs.flow]
        fs.facts = derive_facts(flow, fs.facts)
        while next_node != END:
            # A question whose answer the flow worked out itself is not asked; the answer is recorded as given.
            node = self.k.node(fs.flow, next_node)
            choice = skipped_choice(node, fs.facts) if node is not None else None
            if node is None or choice is None:
                break
            fs.history.append({"node": node.id, "answer": choice.id, "facts": dict(fs.facts), "derived": True})
            fs.facts = derive_facts(flow, {**fs.facts, **choice.set})
            next_node = choice.next
        if next_node == END:
            return self._conclude(state)
        fs.node = next_node
        response = self._question_response(state, fs, self._prefilled_reply(state, fs))
        response.replies = question_options_first(response.replies)
        return response

    def _conclude(self, state: ConversationState) -> Response:
        fs = self._current(state)
        flow = self.k.flows[fs.flow]
        fired = conclude(self.k.rules_for(fs.flow), fs.facts)
        fs.done = True
        state.last = {"kind": "conclusion", "flow": fs.flow, "rules": [r.id for r in fired]}
        replies = [conclusion.verdict(self.k, flow, fired, fs.history, state.lang)]
        regs = unique([r for rule in fired for r in rule.conclude.regulations])
        ags = unique([a for rule in fired for a in rule.conclude.agencies])
        return Response(replies, "conclusion", state.lang, flow=fs.flow, regulations=regs, agencies=ags)

    def _flow_text(self, state: ConversationState, text: str) -> Response:
        """Typed text while a flow question is open: the answer, a new question, or re-ask the same question."""
        fs = self._current(state)
        node = self._current_node(fs)
        reading = read_answer(node, text)
        question_like = looks_like_question(text)
        if reading.understood:
            if reading.strength in ("content", "amount") and question_like:
                # "Vad är tröskelvärdet för 2025?" — a clear question wins over a weak reading of it as an answer.
                decision = self._midflow_decision(text)
                if decision.answer is not None:
                    return self._open(state, decision.answer.target, decision.answer, decision.also)
            # What else the answer says may answer the next questions ("ja, hälsouppgifter" → the sensitive-data
            # question): they are filled in as from a first message, and said so, with a way to change them.
            fs.given.update({f.situation: f.words for f in self.k.situation_reader.read(text)})
            return self._take(state, node, reading)
        decision = Decision()
        if reading.problem in ("no_match", "no_amount") and (question_like or len(text.split()) >= 3):
            decision = self._midflow_decision(text)
            if decision.answer is not None and (question_like or len(text.split()) >= 5):
                return self._open(state, decision.answer.target, decision.answer, decision.also)
        return self._not_understood(state, node, text, reading, decision)

    def _take(self, state: ConversationState, node: Node, reading: Reading) -> Response:
        fs = self._current(state)
        if reading.amount is not None and node.number is not None:
            fs.history.append({"node": node.id, "answer": reading.amount, "facts": dict(fs.facts)})
            fs.facts[node.number.fact] = reading.amount
            return self._advance(state, node.number.next)
        choice = next(c for c in node.choices or [] if c.id == reading.choice)
        return self._apply_choice(state, node, choice, read=list(reading.basis))

    def _paused_text(self, state: ConversationState, text: str) -> Response | None:
        """Typed text while a flow is offered but not forced: a short, clear answer to its question resumes it."""
        fs = self._current(state)
        node = self._current_node(fs)
        if len(text.split()) > 4 or looks_like_question(text):
            return None
        reading = read_answer(node, text)
        if reading.understood and reading.strength in ("polarity", "content", "amount"):
            fs.paused = False
            return self._take(state, node, reading)
        return None

    def _offer_flow(self, state: ConversationState) -> list[Reply]:
        """After an answer given in the middle of a flow: offer the flow again, do not force it."""
        fs = state.flow
        if fs is None or fs.done:
            return []
        fs.paused = True
        title = self.k.flows[fs.flow].title.get(state.lang)
        option = Option(t("continue_flow", state.lang, title=title), "cmd:resume")
        return [Reply(t("flow_offer", state.lang, title=title), options=(option,))]

    def _resume(self, state: ConversationState) -> Response | None:
        fs = state.flow
        if fs is None or fs.done:
            return None
        return self._question_response(state, fs)

    def _not_understood(self, state: ConversationState, node: Node, text: str, reading: Reading, decision: Decision) -> Response:
        """Re-ask the same question with the same option numbers, saying what could not be read; any
        suggestions of other topics come after the question's own options."""
        fs = self._current(state)
        lang = state.lang
        shown = text.strip() if len(text.strip()) <= 60 else text.strip()[:57] + "…"
        labels = {c.id: c.label.get(lang) for c in node.choices or []}
        if reading.problem == "greeting":
            lead = t("not_read_greeting", lang)
        elif reading.problem == "no_amount" or node.number is not None:
            lead = t("not_read_amount", lang, text=shown)
        elif reading.problem == "number_out_of_range":
            lead = t("not_read_number", lang, text=shown, n=len(labels))
        elif reading.problem == "unsure_missing":
            lead = t("not_read_unsure", lang)
        elif reading.problem == "ambiguous" and reading.near:
            numbered = [f"{list(labels).index(cid) + 1}. {labels[cid]}" for cid in reading.near if cid in labels]
            lead = t("not_read_ambiguous", lang, text=shown, near="; ".join(numbered))
        else:
            lead = t("not_read_no_match", lang, text=shown)
        response = self._question_response(state, fs, [Reply(lead)])
        if decision.candidates:
            suggestions = [Option(cards.target_title(self.k, m.target.kind, m.target.id, lang), f"go:{m.target.key}") for m in decision.candidates]
            response.replies.append(Reply(t("maybe_meant", lang), options=tuple(suggestions)))
        response.unanswered = True
        return response


def question_options_first(replies: list[Reply]) -> list[Reply]:
    """Options offered before the question (e.g. "Ändra de svaren") move after the question's own, so
    that the question's options keep their numbers 1, 2, … whatever is said before it."""
    *lead, question = replies
    extra = [o for r in lead for o in r.options]
    if not extra:
        return replies
    return [*(replace(r, options=()) for r in lead), replace(question, options=(*question.options, *extra))]


_QUESTION_WORDS = frozenset(
    "vad hur vem vilken vilket vilka varför varfor när nar vart får far måste maste behöver behover "
    "what how who whom which why when where may must should could would do does is are can".split()
)


def looks_like_question(text: str) -> bool:
    """A question mark, or a question word first: then a clear match to the knowledge may answer it."""
    first = text.strip().split(maxsplit=1)
    return "?" in text or bool(first and first[0].lower().strip(",.:!") in _QUESTION_WORDS)
