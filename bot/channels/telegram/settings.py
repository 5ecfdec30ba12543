"""The [telegram] section of bot.toml: the Telegram channel's settings, read and checked by bot.config like every
section (an unknown key or a bad value names the file and the key)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TelegramSection:
    enabled: bool = False
    mode: str = "polling"
    token_env: str = "TELEGRAM_BOT_TOKEN"
    api_base_url: str = "https://api.telegram.org"
    consultant_chat_id: int = 0
    messages_per_second: int = 30  # the Bot API's limit for all chats (higher only for paid broadcasts)

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if not 1 <= self.messages_per_second <= 1000:
            found.append(("messages_per_second", "must be between 1 and 1000 (Telegram's limit is about 30)"))
        if self.mode not in ("polling", "webhook"):
            found.append(("mode", 'must be "polling" or "webhook"'))
        if not self.api_base_url.startswith(("http://", "https://")):
            found.append(("api_base_url", "must start with http:// or https://"))
        if not self.token_env.strip():
            found.append(("token_env", "must name an environment variable"))
        return found
