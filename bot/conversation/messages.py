"""The bot's own words, in Swedish and English. Knowledge texts live in knowledge/."""

from __future__ import annotations

from bot.knowledge.model import Text

_T = {
    "greeting": (
        "Hej! Jag är Regellotsen. Jag hjälper dig att hitta vilka regler som gäller för det du gör i vård, omsorg och tandvård – "
        "och vilken myndighet du ska fråga. Ställ en fråga med egna ord eller välj nedan.",
        "Hi! I'm Regellotsen. I help you find which rules apply to what you do in health care, social care and dental care – "
        "and which agency to ask. Ask a question in your own words or choose below.",
    ),
    "menu_prompt": ("Vad vill du ha hjälp med?", "What would you like help with?"),
    "help": (
        "Skriv en fråga med egna ord, till exempel ”är vår app en medicinteknisk produkt?” eller ”får vi prata med leverantörer före en upphandling?”.\n\n"
        "Kommandon:\n• meny – visa vad jag kan hjälpa till med\n• börja om – avbryt och börja från början\n• tillbaka – ändra ditt förra svar\n"
        "• varför – förklara frågan eller slutsatsen\n• källor – visa källorna för senaste svaret\n"
        "• alla steg / spara checklista – efter ett resultat: alla nästa steg, eller hela resultatet som fil\n• english / svenska – byt språk",
        "Ask in your own words, for example “is our app a medical device?” or “may we talk to suppliers before a procurement?”.\n\n"
        "Commands:\n• menu – what I can help with\n• restart – cancel and start over\n• back – change your previous answer\n"
        "• why – explain the question or the conclusion\n• sources – the sources of the last answer\n"
        "• all steps / save checklist – after a result: every next step, or the whole result as a file\n• svenska / english – switch language",
    ),
    "fallback": (
        "Jag hittar inget säkert svar på det, och jag vill inte gissa. Jag kan svara på frågor om regler och myndigheter för innovation i vård och omsorg – "
        "till exempel medicintekniska produkter, upphandling, patientdata och dataskydd. Prova att formulera om frågan, eller välj nedan.\n\n"
        # A safety net under every "not understood": an emergency the urgency vocabulary missed still sees the numbers.
        "Gäller det någons hälsa just nu? Ring 112 om det är akut, annars 1177.",
        "I can't find a reliable answer to that, and I won't guess. I answer questions about rules and agencies for innovation in health and social care – "
        "for example medical devices, procurement, patient data and data protection. Try rephrasing, or choose below.\n\n"
        "Is this about someone's health right now? Call 112 in an emergency, otherwise 1177.",
    ),
    "out_of_scope_menu": (
        "Det ligger utanför det jag kan svara på: regler och myndigheter för innovation i vård, omsorg och tandvård.",
        "That is outside what I answer: rules and agencies for innovation in health care, social care and dental care.",
    ),
    "clarify": ("Jag är inte säker på vad du menar. Menade du något av detta?", "I'm not sure what you mean. Did you mean one of these?"),
    "none_of_these": ("Inget av dessa", "None of these"),
    "menu": ("Meny", "Menu"),
    "help_label": ("Hjälp", "Help"),
    "back": ("⬅ Tillbaka", "⬅ Back"),
    "restart": ("Börja om", "Start over"),
    "agency_guide": ("Vilken myndighet?", "Which agency?"),
    "restarted": ("Vi börjar om.", "Let's start over."),
    "nothing_to_go_back_to": ("Det finns inget tidigare svar att gå tillbaka till.", "There is no earlier answer to go back to."),
    "going_back": ("Vi går tillbaka ett steg.", "Going back one step."),
    "derived_answer": ("beräknat av dina svar", "worked out from your answers"),
    "not_understood_choice": (
        "Jag förstod inte svaret. Välj ett av alternativen (eller skriv dess nummer), eller skriv ”tillbaka” eller ”börja om”.",
        "I didn't understand that answer. Pick one of the options (or type its number), or type “back” or “restart”.",
    ),
    "not_understood_number": (
        "Skriv ett belopp i kronor, till exempel ”450 000”, ”1,2 miljoner” eller ”2 mkr”.",
        "Type an amount in SEK, for example “450,000”, “1.2 million” or “2 MSEK”.",
    ),
    "resume": ("Tillbaka till frågan:", "Back to the question:"),
    "not_read_no_match": (
        "Jag kunde inte koppla ”{text}” till något av svarsalternativen. Välj ett av dem (eller skriv dess nummer), eller skriv ”tillbaka” eller ”börja om”.",
        "I couldn't match “{text}” to any of the answers. Pick one of them (or type its number), or type “back” or “restart”.",
    ),
    "not_read_ambiguous": (
        "”{text}” kan passa flera svar: {near}. Välj det som stämmer (eller skriv dess nummer).",
        "“{text}” could fit more than one answer: {near}. Pick the one that fits (or type its number).",
    ),
    "not_read_number": (
        "Det finns inget alternativ ”{text}” – skriv ett nummer från 1 till {n}, eller välj ett svar.",
        "There is no option “{text}” – type a number from 1 to {n}, or pick an answer.",
    ),
    "not_read_unsure": (
        "Den här frågan har inget ”vet inte”-svar. Välj det som ligger närmast, eller skriv ”tillbaka” eller ”börja om”.",
        "This question has no “not sure” answer. Pick the closest one, or type “back” or “restart”.",
    ),
    "not_read_greeting": ("Hej! Vi är mitt i en fråga:", "Hi! We are in the middle of a question:"),
    "not_read_amount": (
        "Jag kunde inte läsa ett belopp i ”{text}”. Skriv ett belopp i kronor, till exempel ”450 000”, ”1,2 miljoner” eller ”2 mkr”.",
        "I couldn't read an amount in “{text}”. Type an amount in SEK, for example “450,000”, “1.2 million” or “2 MSEK”.",
    ),
    "read_number": ("du skrev alternativets nummer, {words}", "you typed the option's number, {words}"),
    "read_yes": ("ditt skrivna svar lästes som ja", "your typed answer was read as yes"),
    "read_no": ("ditt skrivna svar lästes som nej", "your typed answer was read as no"),
    "read_unsure": ("ditt skrivna svar lästes som vet inte", "your typed answer was read as not sure"),
    "read_synonym": ("ditt skrivna svar lästes från ”{words}”", "your typed answer was read from “{words}”"),
    "read_label": ("ditt skrivna svar lästes från ”{words}”", "your typed answer was read from “{words}”"),
    "maybe_meant": ("Eller menade du något av detta?", "Or did you mean one of these?"),
    "flow_offer": ("Vill du fortsätta med frågorna i ”{title}”?", "Do you want to continue with the questions in “{title}”?"),
    "continue_flow": ("▶ Fortsätt: {title}", "▶ Continue: {title}"),

    "stale_button": ("Den frågan är redan besvarad. Här är den aktuella:", "That question has already been answered. Here is the current one:"),
    "old_button_idle": ("Det valet hör till en tidigare fråga.", "That button belongs to an earlier question."),
    "lang_set": ("Okej, jag svarar på svenska.", "OK, I'll answer in English."),
    "acknowledged": ("Okej! Fråga gärna vidare, eller välj nedan.", "OK! Ask more whenever you like, or choose below."),
    "contact_page": ("Kontakt", "Contact"),
    "contact_phone": ("Telefon", "Phone"),
    "contact_e_service": ("E-tjänst", "E-service"),
    "thanks": ("Varsågod! Fråga gärna igen om något mer dyker upp.", "You're welcome! Ask again if anything else comes up."),
    "why_nothing": ("Jag har inte gett något svar ännu att förklara.", "I haven't given an answer yet that I could explain."),
    "sources_nothing": ("Jag har inga källor att visa ännu – ställ en fråga först.", "I have no sources to show yet – ask a question first."),
    "result": ("Resultat", "Result"),
    "you_answered": ("Du svarade", "You answered"),
    "because": ("Varför", "Why"),
    "next_steps": ("Nästa steg", "Next steps"),
    "contact": ("Kontakta", "Contact"),
    "rules_apply": ("Regler som gäller", "Rules that apply"),
    "about": ("Gäller", "Concerns"),
    "ask_agency": ("Fråga", "Ask"),
    "sources": ("Källor", "Sources"),
    "supervision": ("Tillsyn", "Supervision"),
    "guidance": ("Vägledning", "Guidance"),
    "applies_to": ("Gäller för", "Applies to"),
    "applies_when": ("När det gäller en innovation", "When it applies to an innovation"),
    "in_force": ("I kraft", "In force"),
    "replaced": ("Ersatte / ersatt av", "Replaced"),
    "contact_about": ("Kontakta dem om", "Contact them about"),
    "not_about": ("Inte dem", "Not them"),
    "website": ("Webbplats", "Website"),
    "question_n": ("Fråga", "Question"),
    "why_question": ("Jag frågar för att avgöra vilka regler som gäller.", "I ask this to work out which rules apply."),
    "answers_so_far": ("Dina svar hittills", "Your answers so far"),
    "why_topic": (
        "Jag tolkade din fråga som ”{title}” (träffsäkerhet {score} %). Svaret bygger på: {basis}.",
        "I read your question as “{title}” (match {score} %). The answer rests on: {basis}.",
    ),
    "why_phrasing": ("Frågan liknade mest: ”{phrasing}”.", "Your question was closest to: “{phrasing}”."),
    "why_context": (
        "Jag läste den som en följdfråga till ”{title}”.",
        "I read it as a follow-up to “{title}”.",
    ),
    "why_second": (
        "Svarens hela texter, lästa mot ditt meddelande, pekade också hit (plats {rank}).",
        "Reading the entries' whole texts against your message pointed here too (place {rank}).",
    ),
    "why_second_learned": (
        "Läsningen som har lärt sig av exempel på hur folk frågar pekade också hit (plats {rank}).",
        "The reading learned from examples of how people ask pointed here too (place {rank}).",
    ),
    "why_clarify_disagree_learned": (
        "Jag frågade i stället för att svara: frågornas formuleringar pekade mest på ”{first}” ({score} %), läsningen som har lärt sig av exempel på hur folk frågar på ”{second}”. När de två läsningarna inte är överens frågar jag hellre än gissar.",
        "I asked instead of answering: the phrasings pointed most to “{first}” ({score} %), the reading learned from examples of how people ask to “{second}”. When the two readings disagree, I ask rather than guess.",
    ),
    "why_close": ("Det här låg också nära: {titles}.", "These came close too: {titles}."),
    "why_clarify_disagree": (
        "Jag frågade i stället för att svara: frågornas formuleringar pekade mest på ”{first}” ({score} %), svarens hela texter på ”{second}”. När de två läsningarna inte är överens frågar jag hellre än gissar.",
        "I asked instead of answering: the phrasings pointed most to “{first}” ({score} %), the entries' whole texts to “{second}”. When the two readings disagree, I ask rather than guess.",
    ),
    "why_clarify_weak": (
        "Jag frågade i stället för att svara: ”{first}” låg närmast ({score} %), men inte tillräckligt säkert eller så lika något annat att jag hellre frågar än gissar.",
        "I asked instead of answering: “{first}” came closest ({score} %), but not surely enough, or too close to something else, so I ask rather than guess.",
    ),
    "why_situation": ("Ditt meddelande visade: {facts}.", "Your message showed: {facts}."),
    "why_conclusion": ("Så här kom jag fram till slutsatsen:", "This is how I reached the conclusion:"),
    "disclaimer": (
        "ℹ️ Vägledning, inte juridisk rådgivning. Ett bindande besked i ert fall kan bara ansvarig myndighet eller domstol ge – fråga också er jurist, dataskyddsombud eller upphandlingsenhet.",
        "ℹ️ Guidance, not legal advice. Only the responsible agency or a court can give a binding answer in your case – also ask your lawyer, data protection officer or procurement unit.",
    ),
    "truncated": (
        "Ditt meddelande var mycket långt, så jag läste bara de första {n} tecknen.",
        "Your message was very long, so I only read the first {n} characters.",
    ),
    "empty": ("Skriv en fråga, eller välj nedan.", "Type a question, or choose below."),
    "privacy_warning": (
        "⚠️ Dela inte personuppgifter här (personnummer, telefonnummer, e-post). Jag har tagit bort dem innan något sparades.",
        "⚠️ Please don't share personal data here (personal identity numbers, phone numbers, e-mail). I removed it before anything was stored.",
    ),
    "restarted_after_update": (
        "Kunskapsbasen har uppdaterats och frågan du stod på finns inte längre, så vi börjar om.",
        "The knowledge base was updated and the question you were on no longer exists, so let's start over.",
    ),
    "unavailable": (
        "Tekniskt fel: jag kommer inte åt min lagring just nu. Försök igen om en liten stund.",
        "Technical problem: I can't reach my storage right now. Please try again shortly.",
    ),
    "prefilled_intro": ("Utifrån det du skrev har jag redan svarat:", "From what you wrote, I have already answered:"),
    "prefilled_line": ("• {question} → {answer} (du skrev ”{words}”)", "• {question} → {answer} (you wrote “{words}”)"),
    "prefilled_change": ("Ändra de svaren", "Change those answers"),
    "prefilled_undone": ("Okej, vi tar de frågorna igen.", "OK, let's take those questions again."),
    "contacts_for": ("Vem du kontaktar – {title}", "Whom to contact – {title}"),
    "no_agency_for_answer": (
        "Det senaste svaret pekar inte ut någon särskild myndighet. Guiden hjälper dig att hitta rätt:",
        "The last answer does not point to a particular agency. The guide helps you find the right one:",
    ),
    "urgent_emergency": ("🚨 Akut – ring 112", "🚨 Emergency – call 112"),
    "urgent_suicide": ("Du är inte ensam – här finns hjälp nu", "You are not alone – help is there now"),
    "urgent_medical": ("Medicinska frågor – 1177", "Medical questions – 1177"),
    "why_urgent": (
        "Jag svarade först med {numbers} eftersom du skrev: {words}.",
        "I answered first with {numbers} because you wrote: {words}.",
    ),
    "why_urgent_learned": (
        "Jag svarade först med {numbers} eftersom ditt meddelande liknar de nödlägen jag har lärt mig känna igen "
        "från exempel. Orden som vägde tyngst: {words}.",
        "I answered first with {numbers} because your message reads like the emergencies I learned to recognise "
        "from examples. The words that weighed most: {words}.",
    ),
    "why_urgent_context": (
        "Ditt meddelande handlade också om {context}, men {now} tyder på att det händer nu.",
        "Your message was also about {context}, but {now} says it is happening now.",
    ),
    # Channels' own words.
    "only_text": ("Jag förstår bara text – skriv din fråga.", "I only understand text – please type your question."),
    "tg_expired": ("Den knappen har gått ut. Här är menyn:", "That button has expired. Here is the menu:"),
    "tg_not_yours": (
        "De här knapparna hör till någon annans fråga – skriv till mig för att ställa din egen.",
        "These buttons belong to someone else's question – write to me to ask your own.",
    ),
    "more_choices": ("Fler val", "More choices"),
    "tg_command_start": ("Börja – visa menyn", "Start – show the menu"),
    "tg_command_help": ("Hjälp och exempel", "Help and examples"),
    "tg_command_restart": ("Börja om från början", "Start over"),
    "tg_command_back": ("Ändra ditt förra svar", "Change your previous answer"),
    "tg_command_why": ("Varför? Förklara frågan eller slutsatsen", "Why? Explain the question or the conclusion"),
    "tg_command_sources": ("Källorna för senaste svaret", "Sources of the last answer"),
    "tg_command_lang": ("Byt språk (svenska/English)", "Switch language (svenska/English)"),
    # The web chat"s page (adapters/web.py, adapters/web_static/).
    "web_title": ("Regellotsen – vilka regler gäller?", "Regellotsen – which rules apply?"),
    "web_tagline": (
        "Regler och myndigheter för innovation i vård, omsorg och tandvård",
        "Rules and agencies for innovation in health care, social care and dental care",
    ),
    "web_skip": ("Hoppa till frågefältet", "Skip to the question field"),
    "web_log_label": ("Samtalet", "The conversation"),
    "web_input_label": ("Din fråga", "Your question"),
    "web_input_hint": (
        "Skriv med egna ord, eller välj ett alternativ i samtalet. Skriv inte personuppgifter.",
        "Write in your own words, or choose an option in the conversation. Do not write personal data.",
    ),
    "web_send": ("Skicka", "Send"),
    "web_restart": ("Börja om", "Start over"),
    "web_switch_to": ("In English", "På svenska"),
    "web_switch_to_lang": ("en", "sv"),
    "web_bot": ("Regellotsen", "Regellotsen"),
    "web_you": ("Du", "You"),
    "web_you_chose": ("Du valde", "You chose"),
    "web_thinking": ("Regellotsen svarar …", "Regellotsen is answering …"),
    "web_options": ("Välj ett alternativ", "Choose an option"),
    "web_sources": ("Källor", "Sources"),
    "web_new_window": ("(öppnas i nytt fönster)", "(opens in a new window)"),
    "web_error_network": (
        "Jag kunde inte nå tjänsten. Kontrollera anslutningen och försök igen.",
        "I could not reach the service. Check your connection and try again.",
    ),
    "web_error_busy": (
        "Du har skickat många meddelanden på kort tid. Vänta en halv minut och försök igen.",
        "You have sent many messages in a short time. Wait half a minute and try again.",
    ),
    "web_error_server": (
        "Något gick fel hos tjänsten. Försök igen om en stund.",
        "Something went wrong at the service. Try again shortly.",
    ),
    "web_empty": ("Skriv en fråga först.", "Type a question first."),
    "web_download": ("Ladda ner", "Download"),
    "web_disclaimer": ("Vägledning, inte juridisk rådgivning.", "Guidance, not legal advice."),
    "web_accessibility": ("Tillgänglighetsredogörelse", "Accessibility statement"),
    "web_privacy": (
        "Inga kakor. Samtalet sparas en tid utan uppgift om vem du är.",
        "No cookies. The conversation is kept for a while without anything that says who you are.",
    ),
    "web_noscript": (
        "Chatten behöver JavaScript. Slå på JavaScript i webbläsaren och ladda om sidan.",
        "The chat needs JavaScript. Turn on JavaScript in your browser and reload the page.",
    ),
    "flow_done_hint": ("Vill du fråga något mer? Skriv en fråga eller välj nedan.", "Anything else? Ask a question or choose below."),
    # A flow's result, verdict first (conversation.conclusion), and the checklist to keep (conversation.checklist).
    "btn_why": ("Varför?", "Why?"),
    "btn_steps": ("Alla steg", "All steps"),
    "btn_agencies": ("Myndigheter", "Agencies"),
    "btn_sources": ("Källor", "Sources"),
    "btn_checklist": ("Spara checklista", "Save checklist"),
    "btn_restart": ("Börja om", "Start over"),
    "btn_next": ("Nästa ({page}/{pages}) ▸", "Next ({page}/{pages}) ▸"),
    "applies": ("Gäller", "Applies"),
    "contact_first": ("Kontakta först", "Contact first"),
    "and_more": ("och {n} till", "and {n} more"),
    "most_important": ("Viktigast nu", "Most important now"),
    "result_counts": (
        "Slutsatser: {findings} · steg: {steps} · myndigheter: {agencies} – välj nedan.",
        "Findings: {findings} · steps: {steps} · agencies: {agencies} – choose below.",
    ),
    "disclaimer_short": ("ℹ️ Vägledning, inte juridisk rådgivning.", "ℹ️ Guidance, not legal advice."),
    "decided_by": ("Avgjordes av", "Decided by"),
    "all_steps": ("Alla steg", "All steps"),
    "agencies_heading": ("Myndigheter att kontakta", "Agencies to contact"),
    "nothing_here": ("Inget att visa här.", "Nothing to show here."),
    "stage_idea": ("Idé", "Idea"),
    "stage_development": ("Utveckla och testa", "Build and test"),
    "stage_procurement": ("Köpa, sälja och börja använda", "Buy or sell, and start using"),
    "stage_followup": ("Följa upp", "Follow up"),
    "stage_other": ("Övrigt", "Other"),
    "no_result_yet": (
        "Det finns inget resultat att visa ännu – gå igenom en av guiderna först.",
        "There is no result to show yet – go through one of the guides first.",
    ),
    "checklist_ready": (
        "Här är din checklista – hela resultatet att spara eller skriva ut (Markdown och HTML).",
        "Here is your checklist – the whole result to keep or print (Markdown and HTML).",
    ),
    "checklist_title": ("Checklista", "Checklist"),
    "checklist_file": ("checklista", "checklist"),
    "checklist_date": ("Datum", "Date"),
    "checklist_version": ("Kunskapsbasens version", "Knowledge base version"),
    "checklist_answers": ("Dina svar", "Your answers"),
    "checklist_findings": ("Slutsatser", "Findings"),
    "more_sources": ("Källor ({n})", "Sources ({n})"),
    "read_more": ("Läs mer", "Read more"),
}

TEXTS: dict[str, Text] = {key: Text(sv=sv, en=en) for key, (sv, en) in _T.items()}


READ_KEYS = frozenset(key for key in TEXTS if key.startswith("read_"))


def t(key: str, lang: str, **values: object) -> str:
    text = TEXTS[key].get(lang)
    return text.format(**values) if values else text
