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
class Fact:
    """A labelled line ("Gäller: MDR, GDPR"): adapters show it as a fact list, a bold label, or "label: value"."""

    label: str
    value: str


@dataclass(frozen=True)
class Document:
    """A file to hand the user (the checklist): adapters send it, attach it, link to it or write it."""

    name: str  #: a file name, e.g. "regellotsen-checklista-triage-2026-12-02.md"
    media_type: str  #: "text/markdown" or "text/html"
    content: bytes
    title: str = ""


@dataclass(frozen=True)
class Reply:
    """One message. `text` is plain text: paragraphs separated by blank lines,
    lines starting with '• ' are bullets. Adapters escape and format it."""

    text: str
    title: str | None = None
    options: tuple[Option, ...] = ()
    citations: tuple[Citation, ...] = ()
    facts: tuple[Fact, ...] = ()
    documents: tuple[Document, ...] = ()


@dataclass
class Response:
    """Everything one incoming message produced, with what it was about."""

    replies: list[Reply]
    kind: str  # answer | flow | question | conclusion | clarify | fallback | command | greeting | notice | urgent | document | error
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

    @property
    def documents(self) -> list[Document]:
        return [d for r in self.replies for d in r.documents]

    def plain_text(self) -> str:
        """Every reply as plain text: title, facts, text, and its sources as "• title: url" lines."""
        return "\n\n".join(
            "\n".join(
                [*([r.title] if r.title else []), *(f"{f.label}: {f.value}" for f in r.facts), *([r.text] if r.text else []), *(f"• {c.title}: {c.url}" for c in r.citations)]
            )
            for r in self.replies
        )


def short_label(label: str, limit: int = 30) -> str:
    """A button label short enough for a phone: cut before a parenthesis or dash, else at a word, with '…'."""
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    for mark in (" (", " – ", ", "):
        head = label.split(mark, 1)[0]
        if 3 <= len(head) <= limit:
            return head
    return label[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:–-") + "…"


def short_labels(labels: list[str], limit: int = 30) -> list[str]:
    """`short_label` of each, unless two would read the same: then those keep their full text."""
    short = [short_label(label, limit) for label in labels]
    return [s if short.count(s) == 1 else full for s, full in zip(short, labels, strict=True)]
