"""The knowledge model: what a knowledge file may contain.

These pydantic models are the schema. Loading validates every YAML file
against them, `regellots schema` exports them as JSON Schema for editors, and
the engine reads the resulting immutable objects. Rule conditions are plain
data (all / any / not / fact comparisons); nothing here is ever evaluated as
code.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.knowledge.parameters import render

Lang = Literal["sv", "en"]
LANGS: tuple[Lang, ...] = ("sv", "en")

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Lower-case id: letters, digits and '-'.")]
NodeId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
FactName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", description="A fact's name, snake_case.")]
FactValue = bool | int | float | str
NonEmpty = Annotated[str, Field(min_length=1)]
Url = Annotated[str, Field(pattern=r"^https?://\S+$", description="An http(s) address.")]
Stage = Literal["idea", "development", "procurement", "followup"]

#: Lifecycle order used to sort conclusions (idea → development and testing →
#: procurement and introduction → follow-up).
STAGE_ORDER: dict[str, int] = {"idea": 0, "development": 1, "procurement": 2, "followup": 3}

#: The flow node id that means "the flow is finished; conclude".
END = "end"


class Strict(BaseModel):
    """Base: unknown keys are errors (catches typos) and objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Text(Strict):
    """A user-visible text in both languages."""

    sv: NonEmpty
    en: NonEmpty

    def get(self, lang: str) -> str:
        """The text in `lang`, with `{param:…}` placeholders rendered for today."""
        return render(self.raw(lang), lang)

    def raw(self, lang: str) -> str:
        """The text as written, placeholders and all (for checks)."""
        return self.en if lang == "en" else self.sv


class Phrasings(Strict):
    """Ways users ask for something, per language (used for matching)."""

    sv: list[NonEmpty] = []
    en: list[NonEmpty] = []

    def get(self, lang: str) -> list[str]:
        return self.en if lang == "en" else self.sv

    def all(self) -> list[tuple[Lang, str]]:
        return [("sv", p) for p in self.sv] + [("en", p) for p in self.en]


class Source(Strict):
    """An official source. The title may be one string (a proper name) or sv/en."""

    url: Url
    title: NonEmpty | Text

    def title_in(self, lang: str) -> str:
        return self.title if isinstance(self.title, str) else self.title.get(lang)


class Regulation(Strict):
    id: Id
    name: Text
    short_name: NonEmpty | Text | None = Field(
        None, description="Common abbreviation, e.g. LOU, MDR; sv/en when it is a word that differs by language (CE-märkning / CE marking)."
    )
    identifier: NonEmpty = Field(description="SFS number, EU number, or föreskrift number, e.g. 'SFS 2016:1145'.")
    celex: NonEmpty | None = Field(None, description="CELEX id for EU acts, e.g. 32017R0745.")
    summary: Text = Field(description="What it governs, in plain language.")
    applies_to: Text = Field(description="Who it applies to.")
    applies_when: Text = Field(description="When it applies to an innovation.")
    in_force: Text | None = Field(None, description="In force from (and key dates), as text.")
    replaced: Text | None = Field(None, description="What it replaced, or what replaced parts of it.")
    supervision: list[Id] = Field([], description="Agency ids that supervise compliance.")
    guidance: list[Id] = Field([], description="Agency ids that give guidance.")
    sources: list[Source] = Field(min_length=1)
    reviewed: date
    aliases: list[NonEmpty] = Field([], description="Other names users write: abbreviations, old names.")
    phrasings: Phrasings = Phrasings()

    def short_in(self, lang: str) -> str | None:
        if self.short_name is None or isinstance(self.short_name, str):
            return self.short_name
        return self.short_name.get(lang)

    def short_names(self) -> list[str]:
        """Every spelling of the short name (for matching)."""
        if self.short_name is None:
            return []
        return [self.short_name] if isinstance(self.short_name, str) else list(dict.fromkeys([self.short_name.sv, self.short_name.en]))


class Contact(Strict):
    """How to reach an agency, as the agency itself publishes it (read from `source`, an official page)."""

    page: Url = Field(description="The agency's own contact page.")
    phone: Annotated[str, Field(pattern=r"^\+?[0-9][0-9 -]{5,20}[0-9]$")] | None = Field(
        None, description="The switchboard or information line, written as the agency writes it, e.g. '010-788 50 00'."
    )
    e_service: Url | None = Field(None, description="Where reports or applications are filed, if the agency has an e-service for that.")
    source: Source = Field(description="The official page the phone number and addresses were read from.")


class Agency(Strict):
    id: Id
    name: Text
    short_name: NonEmpty | None = None
    role: Text
    contact_about: Text = Field(description="What to contact them about.")
    not_about: Text = Field(description="What they do not handle, and who does.")
    website: Url
    contact: Contact | None = Field(None, description="Contact routes, for 'whom do I contact?'.")
    sources: list[Source] = Field(min_length=1)
    reviewed: date
    aliases: list[NonEmpty] = []
    phrasings: Phrasings = Phrasings()


class Topic(Strict):
    """A question users bring, and the answer."""

    id: Id
    title: Text
    phrasings: Phrasings
    answer: Text
    regulations: list[Id] = []
    agencies: list[Id] = []
    sources: list[Source] = Field(min_length=1, description="The first source is the primary one.")
    related: list[Id] = Field([], description="Topic or flow ids offered as follow-ups.")
    situation: list[Id] = Field(
        [],
        description="Situation ids (knowledge/situations.yaml) this entry is specifically about, e.g. [setting-dental]. A message "
        "that shows another value of the same facet (elderly care, say) is not answered with it confidently: the bot asks instead.",
    )
    reviewed: date | None = None


class Choice(Strict):
    id: NodeId
    label: Text
    synonyms: Phrasings = Field(Phrasings(), description="Other ways a user may type this answer.")
    situation: list[Id] = Field(
        [],
        description="Situation ids (knowledge/situations.yaml) that imply this answer: when the message that starts the flow "
        "shows one of them, and no other choice of the node is shown, the question is answered for the user (who can change it).",
    )
    set: dict[FactName, FactValue] = Field({}, description="Facts this answer sets.")
    next: NodeId = Field(description="The next node's id, or 'end' to conclude.")


class NumberInput(Strict):
    """A question answered with a number (e.g. an estimated value in SEK)."""

    fact: FactName
    unit: Text | None = None
    next: NodeId


class Node(Strict):
    id: NodeId
    ask: Text
    help: Text | None = None
    choices: list[Choice] | None = None
    number: NumberInput | None = None
    skip_when_known: FactName | None = Field(
        None,
        description="If a `derive` of the flow already set this fact, do not ask: take the choice that sets the same value.",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Node:
        if (self.choices is None) == (self.number is None):
            raise ValueError("a node needs exactly one of 'choices' or 'number'")
        if self.choices is not None and len(self.choices) < 2:
            raise ValueError("a node with choices needs at least two")
        return self

    def successors(self) -> list[str]:
        if self.number is not None:
            return [self.number.next]
        return [c.next for c in self.choices or []]


class Flow(Strict):
    """A guided conversation: questions whose answers set facts for the rules."""

    id: Id
    title: Text
    intro: Text | None = None
    phrasings: Phrasings = Phrasings()
    regulations: list[Id] = []
    agencies: list[Id] = []
    situation: list[Id] = Field(
        [],
        description="Situation ids (knowledge/situations.yaml) this entry is specifically about, e.g. [setting-dental]. A message "
        "that shows another value of the same facet (elderly care, say) is not answered with it confidently: the bot asks instead.",
    )
    start: NodeId
    nodes: list[Node] = Field(min_length=1)
    no_conclusion: Text = Field(description="Said when no rule concludes anything.")
    derive: list[Derivation] = Field([], description="Facts the flow works out itself from earlier answers, e.g. above or below a threshold.")


class Derivation(Strict):
    """Set facts when a condition holds on the answers so far (evaluated after every answer, in order)."""

    set: dict[FactName, FactValue]
    when: Condition


class ParamRef(Strict):
    """A comparison bound taken from a dated parameter: `gte: {param: lou-direct-award-limit}`."""

    param: Id


Bound = float | ParamRef


class Condition(Strict):
    """Declarative condition: exactly one of all / any / not / fact (+ one operator)."""

    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(None, alias="not")
    fact: FactName | None = None
    equals: FactValue | None = None
    not_equals: FactValue | None = None
    in_: list[FactValue] | None = Field(None, alias="in")
    gt: Bound | None = None
    gte: Bound | None = None
    lt: Bound | None = None
    lte: Bound | None = None
    exists: bool | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [n for n in ("all", "any", "not_", "fact") if getattr(self, n) is not None]
        if len(forms) != 1:
            raise ValueError("a condition needs exactly one of 'all', 'any', 'not' or 'fact'")
        ops = [n for n in OPERATORS if getattr(self, n) is not None]
        if self.fact is not None and len(ops) != 1:
            raise ValueError("a 'fact' condition needs exactly one of: " + ", ".join(OPERATOR_NAMES))
        if self.fact is None and ops:
            raise ValueError("comparison operators need 'fact'")
        return self


OPERATORS = ("equals", "not_equals", "in_", "gt", "gte", "lt", "lte", "exists")
OPERATOR_NAMES = ("equals", "not_equals", "in", "gt", "gte", "lt", "lte", "exists")


class Conclusion(Strict):
    text: Text
    why: Text | None = Field(None, description="The legal reasoning in one or two sentences.")
    regulations: list[Id] = []
    agencies: list[Id] = []
    next_steps: list[Text] = []
    stage: Stage | None = None
    sources: list[Source] = []
    applies: list[Id] = Field([], description="Regulation ids this conclusion says apply (the rule checker looks for contradictions).")
    does_not_apply: list[Id] = Field([], description="Regulation ids this conclusion says do NOT apply.")


class Rule(Strict):
    id: Id
    flows: list[Id] = Field(min_length=1, description="Flows whose ending this rule applies to.")
    when: Condition
    conclude: Conclusion


class OutOfScope(Strict):
    """Something users ask that Regellotsen does not answer, and where to go instead.

    Matching these keeps near-domain questions ("vilken dos alvedon", "min lön")
    from being forced onto the closest regulation topic.
    """

    id: Id
    title: Text
    phrasings: Phrasings
    answer: Text = Field(description="Where to turn instead.")


class GlossaryEntry(Strict):
    id: Id
    term: Text
    definition: Text
    aliases: list[NonEmpty] = []
    regulations: list[Id] = []
    agencies: list[Id] = []
    sources: list[Source] = []


class Synonym(Strict):
    """Words users write that mean the same; variants are rewritten to canonical before matching."""

    canonical: NonEmpty
    variants: list[NonEmpty] = Field(min_length=1)


Facet = Literal["who", "thing", "action", "data", "setting", "question", "function", "purpose"]


class Situation(Strict):
    """One value of one facet of the situation a message describes: who asks, what the thing is, what they
    want to do, which data, which setting, what kind of question. Recognised from the words people use."""

    id: Id
    facet: Facet
    label: Text = Field(description="How the bot names it when it tells the user what it assumed.")
    terms: Phrasings = Field(
        description="Words and phrases that show it, folded (case and accents do not matter). A trailing * matches any "
        "ending: 'app*' matches app, appen, appar. Several words must stand together."
    )


UrgencyKind = Literal["emergency", "suicide", "medical"]


class UrgencySigns(Strict):
    """One group of phrases that describe an emergency, suicidal thoughts or a personal medical question."""

    id: Id
    kind: UrgencyKind
    always: bool = Field(False, description="True: a work or product context does not make these phrases a mere mention (first-person suicidal phrases).")
    phrases: list[NonEmpty] = Field(min_length=1, description="Words in order; 'word*' any ending, 'a|b' either word, '<n>' any number. å/ä/ö optional.")


class UrgencyReply(Strict):
    """What the bot says first when a message is urgent. Numbers only from cited official sources."""

    text: Text
    sources: list[Source] = Field(min_length=1)


class UrgencyReplies(Strict):
    emergency: UrgencyReply
    suicide: UrgencyReply
    medical: UrgencyReply


class UrgencyModelFile(Strict):
    """The learned reading (bot/understanding/urgency_model.py): weights learned from the urgency example sets."""

    file: NonEmpty = Field(description="A file in the knowledge directory, written by `regellots urgency-train`.")
    threshold: float = Field(0.6, gt=0, lt=1, description="A kind is found when the model gives it at least this probability.")
    veto: float = Field(
        0.1, ge=0, lt=1, description="A phrase's finding stands unless the model gives its kind less than this (a mere mention)."
    )


class Urgency(Strict):
    """Urgency first: the vocabulary that recognises an emergency in a message, and the replies."""

    signs: list[UrgencySigns] = Field(min_length=1)
    now: list[NonEmpty] = Field([], description="Happening now / to a person: beats a context marker in the same sentence.")
    context: list[NonEmpty] = Field([], description="Work, product, report or regulation words: a sign is then a mere mention.")
    ask: list[NonEmpty] = Field([], description="Personal medical question forms ('får man ta'): needed for kind medical.")
    over: list[NonEmpty] = Field(
        [],
        description="The event is over or is a subject, not an emergency ('är stabil nu', 'igår', 'statistik över', 'utbildning i'): "
        "vetoes a sign in the same part of a sentence (up to a comma) even when a now marker stands there too; a suicide "
        "sign only in a message with a context word.",
    )
    example: list[NonEmpty] = Field(
        [],
        description="A phrase quoted as an example, not said ('messages like', 'fraser som'): in a message with a context "
        "word, vetoes every sign in the same sentence, first-person (always) ones too.",
    )
    gap: int = Field(2, ge=0, le=5, description="At most this many other words between two words of a phrase.")
    model: UrgencyModelFile | None = Field(None, description="The learned reading beside the phrases; without it, the phrases alone decide.")
    replies: UrgencyReplies
    reviewed: date


class ParameterValue(Strict):
    """One validity period of a parameter: valid from `from` until the next period starts."""

    from_: date = Field(alias="from")
    value: float | date | None = Field(description="The value; null when not (yet) officially known.")
    sources: list[Source] = Field(min_length=1)
    note: Text | None = None


class Parameter(Strict):
    """An amount, threshold or date that changes with time, referred to by name from texts and rules."""

    id: Id
    name: Text
    unit: Literal["SEK", "EUR", "date"]
    values: list[ParameterValue] = Field(min_length=1)
    reviewed: date


class RouteModelFile(Strict):
    """The learned routing reading (bot/understanding/route_model.py): weights learned from the knowledge's
    phrasings and the realistic example messages."""

    file: NonEmpty = Field(description="A file in the knowledge directory, written by `regellots route-train`.")
    confident: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="From this probability the learned reading answers on its own, even where the phrasings point elsewhere.",
    )
    out_of_scope: float = Field(
        0.5,
        gt=0,
        le=1,
        description="From this summed probability of the out-of-scope entries, the message is out of scope (unless both readings agree on another entry).",
    )


class Routing(Strict):
    """How first messages are read beyond the phrasings."""

    model: RouteModelFile | None = None


class KnowledgeFile(Strict):
    """One YAML file. Any file may hold any of these sections."""

    regulations: list[Regulation] = []
    agencies: list[Agency] = []
    topics: list[Topic] = []
    flows: list[Flow] = []
    rules: list[Rule] = []
    glossary: list[GlossaryEntry] = []
    synonyms: list[Synonym] = []
    out_of_scope: list[OutOfScope] = []
    situations: list[Situation] = []
    parameters: list[Parameter] = []
    menu: list[Id] = Field([], description="Flow or topic ids offered in the main menu, in order.")
    urgency: Urgency | None = Field(None, description="Urgency first: emergencies, suicidal thoughts, personal medical questions (one file only).")
    routing: Routing | None = Field(None, description="The learned reading of first messages (one file only).")
