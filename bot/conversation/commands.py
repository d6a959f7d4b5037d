"""Commands (help, menu, restart, back, language), buttons, deep links and greetings."""

from __future__ import annotations

from bot.conversation.dialogue_base import DialogueBase
from bot.conversation.messages import t
from bot.conversation.replies import Option, Reply, Response
from bot.state.records import ConversationState
from bot.understanding.language import clear_language, from_locale, guess_language
from bot.understanding.matching import Target
from bot.understanding.textnorm import plain

COMMANDS: dict[str, set[str]] = {
    "help": {"help", "hjälp", "hjalp", "?", "/help", "/hjälp", "hjälp mig", "vad kan du", "what can you do"},
    "menu": {"meny", "menu", "/menu", "/meny", "start", "/start", "huvudmeny", "main menu"},
    "restart": {"restart", "börja om", "borja om", "/restart", "starta om", "reset", "avbryt", "cancel", "/cancel", "start over"},
    "resume": {"fortsätt", "fortsatt", "continue", "/continue", "/fortsätt", "/fortsatt", "tillbaka till frågan", "back to the question"},
    "back": {"back", "tillbaka", "/back", "ångra", "undo", "bakåt", "gå tillbaka", "go back"},
    "why": {"why", "varför", "varfor", "/why", "varför då", "why?", "varför?"},
    "sources": {"sources", "källor", "kallor", "källa", "/sources", "source", "/källor", "/kallor", "källorna"},
    "lang:sv": {"svenska", "swedish", "/lang sv", "lang sv", "språk sv", "på svenska", "in swedish"},
    "lang:en": {"english", "engelska", "/lang en", "lang en", "language en", "på engelska", "in english"},
    "lang": {"språk", "/lang", "language", "lang", "/språk", "byt språk", "change language"},
    "res:steps": {"alla steg", "all steps", "nästa steg", "next steps", "/steps", "/steg"},
    "res:checklist": {"spara checklista", "save checklist", "checklista", "checklist", "/checklist", "/checklista"},
}
_COMMAND_OF = {phrase: name for name, phrases in COMMANDS.items() for phrase in phrases}
#: Command words that are plainly one language: typed in a conversation whose language was guessed,
#: they switch it ("help" after a Swedish question answers in English).
COMMAND_LANGUAGE: dict[str, str] = {
    **dict.fromkeys(
        ["help", "what can you do", "restart", "reset", "cancel", "start over", "back", "undo", "go back", "why", "why?",
         "sources", "source", "main menu", "menu", "language", "change language", "continue", "back to the question"], "en"),
    **dict.fromkeys(
        ["hjälp", "hjalp", "hjälp mig", "vad kan du", "börja om", "borja om", "starta om", "avbryt", "tillbaka", "ångra",
         "bakåt", "gå tillbaka", "varför", "varfor", "varför då", "varför?", "källor", "kallor", "källa", "källorna", "meny",
         "huvudmeny", "språk", "byt språk", "fortsätt", "fortsatt", "tillbaka till frågan"], "sv"),
}
GREETINGS = {"hej", "hallå", "hallo", "hello", "hi", "hey", "tja", "tjena", "hejsan", "god morgon", "good morning", "hej hej", "hey there"}
_GREETING_KEYS = frozenset(plain(g) for g in GREETINGS)
#: Thanks and goodbyes: answered in kind, never searched (a "tack" is not a question the bot failed to understand).
THANKS = {
    "tack", "tackar", "tack så mycket", "tusen tack", "stort tack", "tack för hjälpen", "ok tack", "okej tack", "toppen tack",
    "perfekt tack", "bra tack", "tack tack", "hej då", "hejdå", "hej då och tack", "vi hörs",
    "thanks", "thank you", "thank you very much", "thanks a lot", "many thanks", "thx", "ty", "ok thanks", "great thanks",
    "perfect thanks", "cheers", "bye", "goodbye", "thanks bye",
}
_THANKS_KEYS = frozenset(plain(g) for g in THANKS)
#: "ok", "jaha": the user took the answer in. Outside a flow they are no question (in one, "ok" may be a yes).
ACKNOWLEDGEMENTS = {
    "ok", "okej", "okay", "oki", "jaha", "aha", "ah", "jaså", "bra", "fint", "toppen", "perfekt", "kanon", "uppfattat", "förstår",
    "jag förstår", "då vet jag", "great", "cool", "nice", "i see", "got it", "understood", "alright", "all right", "fine", "perfect",
}
_ACK_KEYS = frozenset(plain(g) for g in ACKNOWLEDGEMENTS)


def command_of(text: str) -> str | None:
    words = text.lower().strip(" .!").split()
    if words and words[0].startswith("/"):
        words[0] = words[0].split("@", 1)[0]  # Telegram groups: /help@RegellotsenBot
    return _COMMAND_OF.get(" ".join(words))


class Commands(DialogueBase):
    def _set_language(self, state: ConversationState, text: str, locale: str | None) -> None:
        """The user's choice wins; else the first message with a clear language; else the channel's locale.
        Later, a message clearly in the other language (or a command word of it) switches a guessed
        language; short or mixed messages keep the conversation's."""
        if state.lang_chosen:
            return
        if state.lang_guessed:
            key = " ".join(text.lower().strip(" .!").split())
            clear = COMMAND_LANGUAGE.get(key) if key in _COMMAND_OF else clear_language(text)
            if clear:
                state.lang = clear
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
        if kind == "res":
            name, _, page = rest.partition(":")
            return self._result_part(state, name, int(page) if page.isdecimal() and page.isascii() else 1)
        return Response([Reply(t("old_button_idle", state.lang), options=self._menu(state.lang))], "notice", state.lang)

    def _deep_link(self, state: ConversationState, payload: str) -> Response:
        """`/start PAYLOAD` (e.g. a Telegram deep link): open a flow, topic or card by id."""
        payload = payload.lower()
        for kind, table in (("flow", self.k.flows), ("topic", self.k.topics)):
            if payload in table:
                return self._open(state, Target(kind, payload))
        for fid, flow in self.k.flows.items():
            if fid.startswith(payload + "-") or payload in flow.regulations:
                return self._open(state, Target("flow", fid))
        for kind in ("regulation", "agency", "glossary"):
            if self._exists(kind, payload):
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
        if command == "unfill":
            return self._unfill(state)
        if command == "why":
            return self._why(state)
        if command == "sources":
            return self._sources(state)
        if command == "fallback":
            return self._fallback(state)
        if command == "resume":
            return self._resume(state) or self._greeting(state)
        if command.startswith("res:"):
            return self._choice(state, command)
        if command in ("lang:sv", "lang:en"):
            state.lang, state.lang_chosen = command[-2:], True
            replies = [Reply(t("lang_set", state.lang))]
            fs = state.flow
            if fs is not None and not fs.done:
                replies.append(self._node_reply(state, fs))
            else:
                replies[0] = Reply(replies[0].text, options=self._menu(state.lang))
            return Response(replies, "command", state.lang)
        if command == "lang":
            return Response([Reply("Språk / Language", options=(Option("Svenska", "lang:sv"), Option("English", "lang:en")))], "command", lang)
        return self._greeting(state)

    def _acknowledged(self, state: ConversationState) -> Response:
        return Response([Reply(t("acknowledged", state.lang), options=self._menu(state.lang)), *self._offer_flow(state)], "notice", state.lang)

    def _thanks(self, state: ConversationState) -> Response:
        lang = state.lang
        fs = self.open_flow(state)
        if fs is not None and not fs.paused:
            return self._question_response(state, fs, [Reply(t("thanks", lang))])  # the open question stays open
        return Response([Reply(t("thanks", lang)), *self._offer_flow(state)], "notice", lang)

    def _greeting(self, state: ConversationState) -> Response:
        lang = state.lang
        options = self._menu(lang)
        # In the middle of a flow the menu comes first and the flow is offered after it (not forced).
        replies = [Reply(t("greeting", lang), options=options), *self._offer_flow(state)]
        return Response(replies, "greeting", lang)

    def _back(self, state: ConversationState) -> Response:
        fs = state.flow
        if fs is None or not fs.history:
            response = Response([Reply(t("nothing_to_go_back_to", state.lang))], "command", state.lang)
            if fs is not None and not fs.done:
                response.replies.append(self._node_reply(state, fs))
            return response
        step = fs.history.pop()
        while step.get("derived") and fs.history:
            step = fs.history.pop()  # a question the flow answered itself: go back to the one the user answered
        fs.node, fs.facts, fs.done = step["node"], step["facts"], False
        return self._question_response(state, fs, [Reply(t("going_back", state.lang))])
