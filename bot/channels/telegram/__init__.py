"""Telegram: its [telegram] settings (settings.py), the adapter (adapter.py), the consultants' group
(consultant_group.py) and the channel as `run` drives it (service.py, whose PLUGIN the registry in bot.app names)."""
