"""`why` and `sources`: what led to the last answer, and where it comes from."""

from __future__ import annotations

from bot.conversation import cards, checklist, conclusion, urgent
from bot.conversation.dialogue_base import DialogueBase
from bot.conversation.messages import t
from bot.conversation.replies import Reply, Response
from bot.knowledge.kinds import BY_NAME
from bot.state.records import ConversationState
from bot.understanding.matching import Target


class Explain(DialogueBase):
    def _why(self, state: ConversationState) -> Response:
        response = self._why_answer(state)
        lead = urgent.explain(self, state.last or {}, state.lang)
        if lead is not None:
            if (state.last or {}).get("kind") == "urgent":
                response.replies[:] = [lead]
            else:
                response.replies.insert(0, lead)
        return response

    def _why_answer(self, state: ConversationState) -> Response:
        k, lang = self.k, state.lang
        fs = state.flow
        if fs is not None and not fs.done and not fs.paused:
            node = self._current_node(fs)
            text = (node.help.get(lang).strip() if node.help else t("why_question", lang))
            so_far = cards.answered(k, k.flows[fs.flow], fs.history, lang)
            if so_far:
                text += f"\n\n{t('answers_so_far', lang)}:\n" + "\n".join(so_far)
            return Response([Reply(text), self._node_reply(state, fs)], "command", lang, flow=fs.flow)
        last = state.last
        if not last:
            return Response([Reply(t("why_nothing", lang), options=self._menu(lang))], "command", lang)
        if last["kind"] == "conclusion" and self._result(state) is not None:
            return self._result_part(state, "why")
        if last["kind"] in BY_NAME and self._exists(last["kind"], last["id"]):
            target = Target(last["kind"], last["id"])
            regs, ags = self._about(target)
            basis = ", ".join([cards.reg_label(k, r, lang) for r in regs] + [cards.agency_label(k, a, lang) for a in ags]) or "—"
            score = round(100 * last["score"]) if last.get("score") else 100
            text = t("why_topic", lang, title=cards.target_title(k, target.kind, target.id, lang), score=score, basis=basis)
            if last.get("phrasing"):
                text += "\n" + t("why_phrasing", lang, phrasing=last["phrasing"])
            if isinstance(last.get("second"), int):
                text += "\n" + t("why_second_learned" if last.get("learned") else "why_second", lang, rank=last["second"])
            context = str(last.get("context") or "").split(":", 1)
            if len(context) == 2 and self._exists(context[0], context[1]):
                text += "\n" + t("why_context", lang, title=cards.target_title(k, context[0], context[1], lang))
            close = [key.split(":", 1) for key in last.get("close") or [] if ":" in key]
            titles = [cards.target_title(k, kind, eid, lang) for kind, eid in close if self._exists(kind, eid)]
            if titles:
                text += "\n" + t("why_close", lang, titles="; ".join(titles))
            return Response([Reply(text + self._situation_line(lang))], "command", lang)
        if last["kind"] == "clarify":
            return Response([Reply(self._why_clarify(last, lang) + self._situation_line(lang))], "command", lang)
        return Response([Reply(t("why_nothing", lang), options=self._menu(lang))], "command", lang)

    def _why_clarify(self, last: dict[str, object], lang: str) -> str:
        """Why the bot asked which entry was meant: the readings disagreed, or the best was not sure enough."""
        keys = [str(last.get(n) or "") for n in ("first", "second")]
        titles = []
        for key in keys:
            kind, _, eid = key.partition(":")
            titles.append(cards.target_title(self.k, kind, eid, lang) if eid and self._exists(kind, eid) else "")
        score = last.get("score")
        percent = round(100 * score) if isinstance(score, (int, float)) else 0
        if titles[0] and titles[1] and keys[0] != keys[1]:
            key = "why_clarify_disagree_learned" if last.get("learned") else "why_clarify_disagree"
            return t(key, lang, first=titles[0], second=titles[1], score=percent)
        return t("why_clarify_weak", lang, first=titles[0] or titles[1], score=percent) if titles[0] or titles[1] else t("why_nothing", lang)

    def _situation_line(self, lang: str) -> str:
        """The situation facts the explained message showed (knowledge/situations.yaml), with the words."""
        quote = "”{}”" if lang == "sv" else "“{}”"
        facts = [f"{self.k.situations[sid].label.get(lang)} ({quote.format(words)})" for sid, words in self.described.items() if sid in self.k.situations]
        return "\n" + t("why_situation", lang, facts=", ".join(facts)) if facts else ""

    def _sources(self, state: ConversationState) -> Response:
        k, lang = self.k, state.lang
        sources = []
        last = state.last or {}
        fs = state.flow
        if fs is not None and not fs.done and not fs.paused:
            for rid in k.flows[fs.flow].regulations:
                sources += k.regulations[rid].sources
        elif last.get("kind") == "conclusion" and self._result(state) is not None:
            return self._result_part(state, "sources")
        elif last.get("kind") in BY_NAME and self._exists(last["kind"], last.get("id", "")):
            kind = BY_NAME[last["kind"]]
            entry = k.table(kind)[last["id"]]
            sources += kind.sources(entry)
            for rid in kind.about(entry)[0]:
                sources += k.regulations[rid].sources
        sources = urgent.sources(self, last) + sources
        if not sources:
            return Response([Reply(t("sources_nothing", lang))], "command", lang)
        # Each source once, as a citation: every channel shows its title and link its own way.
        return Response([Reply("", title=t("sources", lang), citations=cards.citations(sources, lang))], "command", lang)

    def _result_part(self, state: ConversationState, name: str, page: int = 1) -> Response:
        """One part of the last flow's result (a verdict button), or the checklist document."""
        lang = state.lang
        result = self._result(state)
        if result is None:
            return Response([Reply(t("no_result_yet", lang), options=self._menu(lang))], "notice", lang)
        flow, fired, history = result
        if name == "checklist":
            documents = checklist.documents(self.k, flow, fired, history, lang, self.today)
            options = conclusion.part_options(lang, "checklist")
            return Response([Reply(t("checklist_ready", lang), options=options, documents=documents)], "document", lang, flow=flow.id)
        if name not in ("why", "steps", "agencies", "sources"):
            return Response([Reply(t("old_button_idle", lang), options=self._menu(lang))], "notice", lang)
        reply = conclusion.part(self.k, flow, fired, history, lang, name, page)
        return Response([reply], "command", lang, flow=flow.id)
