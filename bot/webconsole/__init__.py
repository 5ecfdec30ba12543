"""The web console: an inbox for consultants and a workshop for admins, a client of the desk and the FAQ."""
