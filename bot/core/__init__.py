"""The conversation, knowing no chat service."""
