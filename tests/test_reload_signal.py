"""`migrant-bot run` reloads the knowledge base on SIGHUP, with the console's rule: only after a clean validation.
The real process against the fake Bot API: a question it could not answer is answered after an admin adds it as a
paraphrase and sends SIGHUP; a broken file then keeps the old knowledge base serving."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

from bot.webconsole import kb_files
from tests.conftest import ROOT, answer_of, free_port
from tests.fakes.serve import eventually
from tests.fakes.telegram_api import FakeTelegram, message_update
from tests.harness import BotProcess

QUESTION = "how do i let the state know i need shelter from persecution"  # suggested, not answered, as shipped
ENTRY = "asylum-how-to-apply"


async def ask(fake: FakeTelegram, chat: int) -> str:
    """Write QUESTION as a new user (a repeat would be taken as insisting) and return the bot's reply."""
    fake.updates.append(message_update(chat, QUESTION))
    await eventually(lambda: bool(fake.sent(chat)), 30)
    return "\n".join(str(m["text"]) for m in fake.sent(chat))


async def test_sighup_reloads_a_knowledge_base_that_validates_and_keeps_the_old_one_otherwise(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake = fake_telegram
    knowledge = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", knowledge)
    bot = BotProcess(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", fake.url, "polling", free_port())
    bot.knowledge = knowledge
    log = tmp_path / f"bot-{bot.port}.log"
    answer = answer_of(ENTRY, "en").splitlines()[0]
    await bot.start()
    try:
        assert answer not in await ask(fake, 4001)
        path = kb_files.entry_file(knowledge, ENTRY)
        assert path is not None
        kb_files.add_paraphrases(path, ENTRY, {"en": [QUESTION]}, kb_files.digest(path.read_text(encoding="utf-8")))
        assert bot.process is not None
        bot.process.send_signal(signal.SIGHUP)
        await eventually(lambda: "knowledge base reloaded" in log.read_text(errors="replace"), 60)
        assert answer in await ask(fake, 4002)

        (knowledge / "broken.yaml").write_text("entries:\n  - id: [\n", encoding="utf-8")
        bot.process.send_signal(signal.SIGHUP)
        await eventually(lambda: "knowledge base not reloaded" in log.read_text(errors="replace"), 60)
        assert "broken.yaml" in log.read_text(errors="replace")  # the operator is told which file
        assert answer in await ask(fake, 4003)  # the old knowledge base serves on
        assert bot.process.returncode is None
    finally:
        await bot.stop()
