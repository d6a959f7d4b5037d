"""Conversation tests: whole conversations written as YAML, run against the engine.

A test file is a list of user turns (typed text, or an option chosen by its
label or value) and what each reply must look like. Maintainers write them
without Python; `regellots test` and pytest (tests/test_conversations.py) run
them. The format is a pydantic model, so unknown keys are file:line errors and
`regellots schema` can export it for editors:

    name: Procurement – small purchase
    lang: sv                       # optional: choose the language first
    turns:
      - say: måste vi upphandla en app för 300 000 kr
        expect: {kind: answer, regulations: [lou]}
      - choose: "▶ Måste vi upphandla – och hur?"
        expect: {kind: flow, flow: procurement, choices: [Region]}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError, WithJsonSchema, model_validator

from bot.conversation.engine import Engine
from bot.conversation.replies import Response
from bot.knowledge import Knowledge
from bot.knowledge.loader import knowledge_files, label_for
from bot.knowledge.model import Lang, Strict
from bot.knowledge.yamlfile import Problem, line_of, load_yaml
from bot.state import ConversationState, MemoryStore
from bot.understanding.pipeline import Incoming

Kind = Literal["answer", "flow", "question", "conclusion", "clarify", "fallback", "command", "greeting", "notice", "error", "urgent", "document"]


def _typed_text(value: Any) -> Any:
    """A user types text; YAML turns `2` into a number and `yes`/`no` into true/false."""
    if isinstance(value, bool):
        raise ValueError("YAML read this as true/false: put the text in quotes, e.g. \"Yes\"")
    if isinstance(value, int | float):
        return str(value)
    return value


UserText = Annotated[str, BeforeValidator(_typed_text), WithJsonSchema({"type": ["string", "number"]})]
OneOrMore = Annotated[
    list[str],
    BeforeValidator(lambda v: [v] if isinstance(v, str) else v),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
]


class Expect(Strict):
    """What the reply to one turn must look like. Every key is optional; lists are 'at least these'."""

    kind: Kind | None = Field(None, description="The kind of reply: answer, flow, question, conclusion, clarify, fallback, …")
    topic: str | None = Field(None, description="The topic id answered.")
    flow: str | None = Field(None, description="The flow id started, asked or concluded.")
    lang: Lang | None = Field(None, description="The language of the reply.")
    regulations: list[str] = Field([], description="Regulation ids the reply must be about (others may be there too).")
    agencies: list[str] = Field([], description="Agency ids the reply must be about (others may be there too).")
    choices: list[UserText] = Field([], description="Options that must be offered: each is found in some option's label (case-insensitive).")
    contains: OneOrMore = Field([], description="Text (or texts) the reply must contain, case-insensitive.")
    not_contains: OneOrMore = Field([], description="Text (or texts) the reply must not contain, case-insensitive.")
    urgent: Literal["emergency", "suicide", "medical", "none"] | None = Field(
        None, description="Urgency first: the first reply is the urgent one of this kind (112 / 1177); 'none': no urgent reply."
    )


class Turn(Strict):
    """One thing the user does: `say` text, or `choose` an offered option (its label or value)."""

    say: UserText | None = Field(None, description="Text the user types.")
    choose: UserText | None = Field(None, description="An option offered by the previous reply: its label (or value).")
    expect: Expect = Expect()

    @model_validator(mode="after")
    def _one_action(self) -> Turn:
        if (self.say is None) == (self.choose is None):
            raise ValueError("a turn needs exactly one of 'say' or 'choose'")
        return self


class ConversationTest(Strict):
    """One conversation: a name and the turns, in order."""

    name: str = Field(min_length=1, description="What the conversation checks, in a few words.")
    description: str | None = Field(None, description="Optional longer note for maintainers.")
    lang: Lang | None = Field(None, description="Choose this language before the first turn (then the menu is offered).")
    locale: str | None = Field(None, description="The channel's language hint sent with every turn, e.g. sv-SE.")
    turns: list[Turn] = Field(min_length=1)


# -- loading ----------------------------------------------------------------


@dataclass(frozen=True)
class ConversationFile:
    label: str
    test: ConversationTest
    raw: Any

    def turn_line(self, index: int) -> int:
        return line_of(self.raw, ("turns", index))


def find_test_files(paths: list[Path]) -> list[Path]:
    """YAML files named by `paths` (files, or directories searched recursively; '_' and '.' names skipped)."""
    out: list[Path] = []
    for path in paths:
        out.extend(knowledge_files(path) if path.is_dir() else [path])
    return out


def load_test(path: Path, label: str | None = None) -> tuple[ConversationFile | None, list[Problem]]:
    """Parse and check one test file. Returns (test or None, problems with file:line)."""
    label = label or label_for(path)
    if not path.is_file():
        return None, [Problem(label, 0, "no such file")]
    data, problems = load_yaml(path, label)
    if data is None and problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [*problems, Problem(label, getattr(data, "line", 1), "a conversation test is a mapping with 'name' and 'turns'")]
    try:
        test = ConversationTest.model_validate(data)
    except ValidationError as exc:
        problems += [Problem(label, line_of(data, _data_loc(err["loc"])), _message(err)) for err in exc.errors()]
        return None, sorted(set(problems))
    if problems:
        return None, problems  # duplicate keys: one of them was silently lost
    return ConversationFile(label, test, data), []


_FIELDS = {name for model in (Expect, Turn, ConversationTest) for name in model.model_fields}


def _data_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's type markers ('str', 'list[str]', 'function-before[…]') from an error path, keeping keys and indexes."""
    return tuple(p for p in loc if isinstance(p, int) or p in _FIELDS or not _is_type_marker(str(p)))


def _is_type_marker(part: str) -> bool:
    return part in {"str", "int", "float", "bool", "none", "list", "dict"} or part.startswith(("function-", "list[", "literal[", "nullable["))


def _where(loc: tuple[Any, ...]) -> str:
    """'turn 3: expect.kind' for ('turns', 2, 'expect', 'kind'): turns are numbered from 1, as in reports."""
    if len(loc) >= 2 and loc[0] == "turns" and isinstance(loc[1], int):
        rest = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc[2:]).replace(".[", "[")
        return f"turn {loc[1] + 1}" + (f": {rest}" if rest else "")
    return ".".join(str(p) for p in loc)


def _message(err: Any) -> str:
    loc = _data_loc(err["loc"])
    where, last = _where(loc), (loc[-1] if loc else "")
    if err["type"] == "extra_forbidden":
        parent = loc[-2] if len(loc) > 1 else None
        model = Expect if parent == "expect" else Turn if isinstance(parent, int) else ConversationTest
        return f"{where}: unknown key '{last}' (known keys: {', '.join(model.model_fields)})"
    if err["type"] == "missing":
        return f"{where}: required key missing"
    if err["type"] == "literal_error":
        return f"{where}: {err['input']!r} is not one of {err['ctx']['expected']}"
    message = err["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


# -- running ----------------------------------------------------------------


@dataclass
class Reached:
    """What a set of conversations touched: used by `regellots coverage`."""

    topics: set[str] = field(default_factory=set)
    nodes: set[tuple[str, str]] = field(default_factory=set)
    rules: set[str] = field(default_factory=set)
    concluded: set[str] = field(default_factory=set)  # flows that reached a conclusion

    def observe(self, response: Response, state: ConversationState) -> None:
        if response.topic:
            self.topics.add(response.topic)
        fs = state.flow
        if fs is not None and not fs.done:
            self.nodes.add((fs.flow, fs.node))  # the question now waiting for an answer has been shown
        if response.kind == "conclusion" and state.last:
            self.rules.update(state.last.get("rules", []))
            self.concluded.add(str(state.last.get("flow")))

    def update(self, other: Reached) -> None:
        self.topics |= other.topics
        self.nodes |= other.nodes
        self.rules |= other.rules
        self.concluded |= other.concluded


@dataclass
class TurnFailure:
    turn: int  # 1-based
    line: int
    action: str
    mismatches: list[str]
    got: str


@dataclass
class FileResult:
    label: str
    name: str = ""
    turns_run: int = 0
    problems: list[Problem] = field(default_factory=list)  # the test file itself is invalid
    failure: TurnFailure | None = None
    reached: Reached = field(default_factory=Reached)

    @property
    def passed(self) -> bool:
        return not self.problems and self.failure is None

    def report(self) -> str:
        if self.problems:
            return "\n".join([f"INVALID {self.label}", *(f"  {p}" for p in self.problems)])
        if self.failure is None:
            return f"PASS {self.label}  {self.name} ({self.turns_run} turns)"
        f = self.failure
        lines = [f"FAIL {self.label}  {self.name}", f"  {self.label}:{f.line}: turn {f.turn}, {f.action}"]
        lines += [f"    {m}" for m in f.mismatches]
        lines.append("    what came back:")
        lines += [f"      {line}" for line in f.got.splitlines()]
        return "\n".join(lines)


def _squash(text: str) -> str:
    """Lower-case with every kind of space as one space, so 'contains' ignores line breaks and NBSPs."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split()).lower()


def check(expect: Expect, response: Response) -> list[str]:
    """The ways a response differs from what was expected (empty: it matches)."""
    out: list[str] = []
    for key in ("kind", "topic", "flow", "lang"):
        want = getattr(expect, key)
        if want is not None and getattr(response, key) != want:
            out.append(f"{key}: expected {want}, got {getattr(response, key) or 'none'}")
    if expect.urgent is not None and (response.urgent or "none") != expect.urgent:
        out.append(f"urgent: expected {expect.urgent}, got {response.urgent or 'none'}")
    for key in ("regulations", "agencies"):
        want_ids: list[str] = getattr(expect, key)
        missing = [i for i in want_ids if i not in getattr(response, key)]
        if missing:
            out.append(f"{key}: expected at least {want_ids}, missing {missing}")
    labels = [o.label for o in response.options]
    for choice in expect.choices:
        if not any(_squash(choice) in _squash(label) for label in labels):
            out.append(f"choices: expected an option with {choice!r}")
    # The text a person gets: the replies, and the documents handed over (the checklist: the whole result).
    text = _squash("\n".join([response.plain_text(), *(d.content.decode("utf-8") for d in response.documents if d.media_type == "text/markdown")]))
    for needle in expect.contains:
        if _squash(needle) not in text:
            out.append(f"text: expected to contain {needle!r}")
    for needle in expect.not_contains:
        if _squash(needle) in text:
            out.append(f"text: expected NOT to contain {needle!r}")
    return out


def describe(response: Response, width: int = 1200) -> str:
    """What came back, for a failure report."""
    text = response.plain_text().strip()
    if len(text) > width:
        text = text[:width].rstrip() + " …"
    lines = [
        f"kind: {response.kind}   urgent: {response.urgent or '-'}   lang: {response.lang}   topic: {response.topic or '-'}   flow: {response.flow or '-'}",
        f"regulations: {response.regulations}   agencies: {response.agencies}",
        "choices: " + (" | ".join(o.label for o in response.options) or "-"),
        "text:",
    ]
    return "\n".join(lines + [f"  {line}" for line in text.splitlines()])


def pick(response: Response | None, wanted: str) -> str | None:
    """The value of the offered option with this label (or value); exact first, then case-insensitive, then a unique part."""
    if response is None:
        return None
    options = response.options
    for test in (
        lambda o: o.label == wanted or o.value == wanted,
        lambda o: _squash(o.label) == _squash(wanted),
    ):
        found = [o for o in options if test(o)]
        if found:
            return found[0].value
    partial = [o for o in options if _squash(wanted) in _squash(o.label)]
    return partial[0].value if len(partial) == 1 else None


async def run_test(knowledge: Knowledge, tf: ConversationFile) -> FileResult:
    """Run one conversation in a fresh engine; stop at the first turn that does not match."""
    test = tf.test
    store = MemoryStore()
    engine = Engine(knowledge, store, channel="test")
    conversation = f"convtest:{tf.label}"
    result = FileResult(tf.label, test.name)
    last: Response | None = None
    if test.lang:
        last = await engine.handle(conversation, Incoming(choice=f"lang:{test.lang}", locale=test.locale))
    for i, turn in enumerate(test.turns):
        line = tf.turn_line(i)
        if turn.say is not None:
            action = f"say {turn.say!r}"
            incoming = Incoming(text=turn.say, locale=test.locale)
        else:
            action = f"choose {turn.choose!r}"
            value = pick(last, turn.choose or "")
            if value is None:
                offered = " | ".join(o.label for o in last.options) if last else "nothing yet"
                result.failure = TurnFailure(i + 1, line, action, [f"no such option; offered: {offered}"], describe(last) if last else "-")
                return result
            incoming = Incoming(choice=value, locale=test.locale)
        last = await engine.handle(conversation, incoming)
        result.turns_run = i + 1
        result.reached.observe(last, ConversationState.from_json(await store.load(conversation)))
        mismatches = check(turn.expect, last)
        if mismatches:
            result.failure = TurnFailure(i + 1, line, action, mismatches, describe(last))
            return result
    return result


async def run_files(knowledge: Knowledge, paths: list[Path]) -> list[FileResult]:
    results = []
    for path in paths:
        tf, problems = load_test(path)
        if tf is None:
            results.append(FileResult(label_for(path), problems=problems))
            continue
        results.append(await run_test(knowledge, tf))
    return results


def summary(results: list[FileResult]) -> str:
    passed = sum(r.passed for r in results)
    invalid = sum(bool(r.problems) for r in results)
    failed = len(results) - passed - invalid
    parts = [f"{passed} passed", f"{failed} failed"] + ([f"{invalid} invalid"] if invalid else [])
    return ", ".join(parts) + f" ({len(results)} file{'s' if len(results) != 1 else ''})"
