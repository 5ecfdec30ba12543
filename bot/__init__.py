"""migrant-bot: a help desk for migrants in Bulgaria on Telegram, Viber and the console."""
