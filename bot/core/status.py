"""The status dialogue: asking a person's status in law when an answer depends on it, and remembering it only
when they agree.

Its buttons: StatusAnswer (the question answered for one entry; no status: "I don't know / I'd rather not say",
the general answer), RememberStatus (the one extra button that agrees to the status being remembered), SetStatus
(from /status; no status drops the saved one).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.knowledge import Status
from bot.core.payloads import RememberStatus, SetStatus, StatusAnswer
from bot.core.replies import Message
from bot.i18n import I18n
from bot.types import Button


class StatusReplies:
    def __init__(self, i18n: I18n) -> None:
        self._i18n = i18n

    def _(self, language: str) -> Callable[[str], str]:
        return self._i18n.gettext(language)

    def label(self, language: str, status: Status) -> str:
        _ = self._(language)
        return {
            Status.ASYLUM_SEEKER: _("Asylum seeker"),
            Status.INTERNATIONAL_PROTECTION: _("Refugee or humanitarian status"),
            Status.TEMPORARY_PROTECTION: _("Temporary protection (from Ukraine)"),
            Status.RESIDENCE_PERMIT: _("Residence permit"),
            Status.EU_CITIZEN: _("EU citizen"),
        }[status]

    def ask(self, language: str, entry_id: str) -> Message:
        _ = self._(language)
        buttons = tuple(Button(self.label(language, s), StatusAnswer(s, entry_id).pack()) for s in Status)
        return Message(
            _("The answer depends on your status in Bulgaria. Which one is yours?"),
            buttons + (Button(_("I don't know / I'd rather not say"), StatusAnswer(None, entry_id).pack()),),
        )

    def remember_button(self, language: str, status: Status) -> Button:
        _ = self._(language)
        return Button(_("Remember my status for next time"), RememberStatus(status).pack())

    def saved(self, language: str, status: Status) -> Message:
        _ = self._(language)
        return Message(
            _("Saved: {status}. /status shows or changes it; /forget erases it.").format(
                status=self.label(language, status)
            )
        )

    def menu(self, language: str, current: Status | None) -> Message:
        _ = self._(language)
        text = (
            _("Your saved status: {status}. Choose another one, or forget it:").format(
                status=self.label(language, current)
            )
            if current is not None
            else _("No status is saved. If you choose one, answers that depend on it will fit it:")
        )
        buttons = tuple(Button(self.label(language, s), SetStatus(s).pack()) for s in Status if s is not current)
        forget = (Button(_("Forget my status"), SetStatus(None).pack()),) if current is not None else ()
        return Message(text, buttons + forget)

    def cleared(self, language: str) -> Message:
        _ = self._(language)
        return Message(_("Your status is no longer saved."))
