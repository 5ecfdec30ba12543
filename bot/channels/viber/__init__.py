"""Viber: its [viber] settings (settings.py), the adapter (adapter.py) and the channel as `run` drives it
(service.py, whose PLUGIN the registry in bot.app names)."""
