"""What every part of the dialogue shares: the knowledge, the menu, the open question, and the
steps one part asks of another (declared here, defined in `commands`, `flowrunner`, `explain`
and `dialogue`)."""

from __future__ import annotations

from datetime import date

from bot.conversation import cards
from bot.conversation.messages import t
from bot.conversation.replies import Option, Reply, Response
from bot.knowledge.kinds import BY_NAME
from bot.knowledge.loaded import Knowledge
from bot.knowledge.model import Flow, Node, Rule
from bot.knowledge.rules import conclude
from bot.state.records import ConversationState, FlowState
from bot.understanding.decision import Decision
from bot.understanding.matching import Match, Target


class DialogueBase:
    def __init__(self, knowledge: Knowledge, today: date | None = None) -> None:
        self.k = knowledge
        #: The typed message of this turn (None for a pressed option): a flow it starts may be pre-filled from it.
        self.message: str | None = None
        #: What the question typed in the last turn showed (state.described): for a flow picked from its reply.
        self.described: dict[str, str] = {}
        self.today = today or date.today()

    @staticmethod
    def open_flow(state: ConversationState) -> FlowState | None:
        """The flow the user is in the middle of, if any."""
        fs = state.flow
        return fs if fs is not None and not fs.done else None

    def _menu(self, lang: str) -> tuple[Option, ...]:
        return cards.menu_options(self.k, lang) + (Option(t("help_label", lang), "cmd:help"),)

    def _exists(self, kind: str, target_id: str) -> bool:
        return self.k.entry(kind, target_id) is not None

    def _about(self, target: Target) -> tuple[list[str], list[str]]:
        """The regulation and agency ids a target is about."""
        return BY_NAME[target.kind].about(self.k.table(target.kind)[target.id])

    @staticmethod
    def _current(state: ConversationState) -> FlowState:
        """The flow a step that only runs inside a flow works on."""
        if state.flow is None:
            raise LookupError("no flow in progress")
        return state.flow

    def _result(self, state: ConversationState) -> tuple[Flow, list[Rule], list[dict]] | None:
        """The last finished flow: (flow, the rules that fired, the answers), or None."""
        fs = state.flow
        if fs is None or not fs.done or fs.flow not in self.k.flows:
            return None
        return self.k.flows[fs.flow], conclude(self.k.rules_for(fs.flow), fs.facts), fs.history

    def _current_node(self, fs: FlowState) -> Node:
        node = self.k.node(fs.flow, fs.node)
        if node is None:  # the knowledge changed under the conversation; respond() restarts such flows
            raise LookupError(f"flow {fs.flow} has no node {fs.node}")
        return node

    def _node_reply(self, state: ConversationState, fs: FlowState) -> Reply:
        flow = self.k.flows[fs.flow]
        node = self._current_node(fs)
        return cards.node_reply(self.k, flow, node, state.lang, len(fs.history) + 1, bool(fs.history))

    def _question_response(self, state: ConversationState, fs: FlowState, lead: list[Reply] | None = None) -> Response:
        fs.paused = False  # asked again: answers typed now are answers to this question
        return Response([*(lead or []), self._node_reply(state, fs)], "question", state.lang, flow=fs.flow)

    # Steps defined by the parts (see the module docstring).
    def _open(self, state: ConversationState, target: Target, match: Match | None = None, also: list[Match] | None = None) -> Response:
        raise NotImplementedError

    def _clarify(self, state: ConversationState, candidates: list[Match]) -> Response:
        raise NotImplementedError

    def _fallback(self, state: ConversationState, redirect: str | None = None) -> Response:
        raise NotImplementedError

    def _greeting(self, state: ConversationState) -> Response:
        raise NotImplementedError

    def _start_flow(self, state: ConversationState, flow_id: str) -> Response:
        raise NotImplementedError

    def _answer_button(self, state: ConversationState, rest: str) -> Response:
        raise NotImplementedError

    def _why(self, state: ConversationState) -> Response:
        raise NotImplementedError

    def _sources(self, state: ConversationState) -> Response:
        raise NotImplementedError

    def _result_part(self, state: ConversationState, name: str, page: int = 1) -> Response:
        raise NotImplementedError

    def _command(self, state: ConversationState, command: str) -> Response:
        raise NotImplementedError

    def _midflow_decision(self, text: str) -> Decision:
        raise NotImplementedError

    def _unfill(self, state: ConversationState) -> Response:
        raise NotImplementedError

    def _offer_flow(self, state: ConversationState) -> list[Reply]:
        raise NotImplementedError

    def _resume(self, state: ConversationState) -> Response | None:
        raise NotImplementedError


def unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
