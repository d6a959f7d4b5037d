"""Every path through every flow, walked through the real engine (for the reply-size and English checks).

Each choice is pressed as a button; an amount question is answered with the
values around each bound the flow's rules compare with. The conversation state
is forked at every question, so each path is walked once from where it splits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.conversation.engine import Engine
from bot.conversation.replies import Response
from bot.knowledge import Knowledge
from bot.knowledge.flowwalk import number_values
from bot.knowledge.model import Flow, Rule
from bot.knowledge.rules import conclude
from bot.state import ConversationState, MemoryStore
from bot.understanding.pipeline import Incoming

DAY = date(2026, 12, 2)


@dataclass
class FlowPath:
    flow: str
    lang: str
    answers: list[str]
    conclusion: Response
    state: ConversationState  #: the conversation's state at the conclusion

    def result(self, knowledge: Knowledge) -> tuple[Flow, list[Rule], list[dict]]:
        """(flow, the rules that fired, the answers) — what the result's parts and the checklist are made of."""
        fs = self.state.flow
        assert fs is not None and fs.done
        return knowledge.flows[fs.flow], conclude(knowledge.rules_for(fs.flow), fs.facts), fs.history


class Walker:
    def __init__(self, knowledge: Knowledge) -> None:
        self.engine = Engine(knowledge, MemoryStore(max_conversations=10_000_000), channel="test", today=lambda: DAY)
        self._n = 0

    def _cid(self) -> str:
        self._n += 1
        return f"walk-{self._n}"

    async def fork(self, cid: str) -> str:
        raw = await self.engine.store.load(cid)
        assert raw is not None
        new = self._cid()
        await self.engine.store.save(new, raw)
        return new

    async def paths(self, flow_id: str, lang: str) -> list[FlowPath]:
        cid = self._cid()
        await self.engine.handle(cid, Incoming(choice=f"lang:{lang}"))
        first = await self.engine.handle(cid, Incoming(choice=f"go:flow:{flow_id}"))
        out: list[FlowPath] = []
        await self._walk(flow_id, lang, cid, first, [], out)
        return out

    async def _walk(self, flow_id: str, lang: str, cid: str, response: Response, answers: list[str], out: list[FlowPath]) -> None:
        if response.kind == "conclusion":
            out.append(FlowPath(flow_id, lang, answers, response, ConversationState.from_json(await self.engine.store.load(cid))))
            await self.engine.store.save(cid, "")
            return
        k = self.engine.knowledge
        state = ConversationState.from_json(await self.engine.store.load(cid))
        assert state.flow is not None and not state.flow.done, f"{flow_id} {answers}: neither a question nor a conclusion ({response.kind})"
        assert len(answers) <= 50, f"{flow_id}: a path of more than 50 answers"
        node = k.node(flow_id, state.flow.node)
        assert node is not None
        if node.number is not None:
            moves = [(f"{v:.0f}", Incoming(text=f"{v:.0f}")) for v in number_values(k.flows[flow_id], k.rules_for(flow_id), node.number.fact) if v >= 0]
        else:
            prefix = f"ans:{flow_id}:{node.id}:"
            values = [o.value for o in response.options if o.value.startswith(prefix)]
            assert len(values) == len(node.choices or []), f"{flow_id}/{node.id}: not every choice is offered as a button"
            moves = [(v[len(prefix) :], Incoming(choice=v)) for v in values]
        for label, incoming in moves:
            branch = await self.fork(cid)
            await self._walk(flow_id, lang, branch, await self.engine.handle(branch, incoming), [*answers, f"{node.id}={label}"], out)
        await self.engine.store.save(cid, "")


_CACHE: dict[tuple[str, str], list[FlowPath]] = {}


async def every_path(knowledge: Knowledge, lang: str) -> list[FlowPath]:
    """Every path of every flow in one language (walked once per test session and knowledge version)."""
    key = (knowledge.version, lang)
    if key not in _CACHE:
        walker = Walker(knowledge)
        _CACHE[key] = [p for flow_id in knowledge.flows for p in await walker.paths(flow_id, lang)]
    return _CACHE[key]
