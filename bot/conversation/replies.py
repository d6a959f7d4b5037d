"""Channel-neutral replies: what the engine says, before any adapter renders it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Option:
    """A choice the user can press (or type its number or label)."""

    label: str
    value: str


@dataclass(frozen=True)
class Citation:
    title: str
    url: str


@dataclass(frozen=True)
class Reply:
    """One message. `text` is plain text: paragraphs separated by blank lines,
    lines starting with '• ' are bullets. Adapters escape and format it."""

    text: str
    title: str | None = None
    options: tuple[Option, ...] = ()
    citations: tuple[Citation, ...] = ()


@dataclass
class Response:
    """Everything one incoming message produced, with what it was about."""

    replies: list[Reply]
    kind: str  # answer | flow | question | conclusion | clarify | fallback | command | greeting | notice | urgent
    lang: str
    topic: str | None = None
    flow: str | None = None
    regulations: list[str] = field(default_factory=list)
    agencies: list[str] = field(default_factory=list)
    #: The knowledge entry the turn answered or started, as "kind:id" (e.g. "topic:lou-thresholds").
    target: str | None = None
    #: The message was not understood (also mid-flow): maintainers should see it in `regellots unanswered`.
    unanswered: bool = False
    #: Urgency first: emergency | suicide | medical when the first reply is the urgent one (112 / 1177).
    urgent: str | None = None

    @property
    def options(self) -> list[Option]:
        return [o for r in self.replies for o in r.options]

    def plain_text(self) -> str:
        return "\n\n".join(((r.title + "\n") if r.title else "") + r.text for r in self.replies)
