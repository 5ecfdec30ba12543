"""The [viber] section of bot.toml: the Viber channel's settings, read and checked by bot.config like every
section (an unknown key or a bad value names the file and the key)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ViberSection:
    enabled: bool = False
    token_env: str = "VIBER_AUTH_TOKEN"
    api_base_url: str = "https://chatapi.viber.com/pa"
    sender_name: str = "Migrant Help"
    sender_avatar: str = ""

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if not self.api_base_url.startswith(("http://", "https://")):
            found.append(("api_base_url", "must start with http:// or https://"))
        if not 1 <= len(self.sender_name) <= 28:
            found.append(("sender_name", "must be 1 to 28 characters (Viber's limit)"))
        if not self.token_env.strip():
            found.append(("token_env", "must name an environment variable"))
        return found
