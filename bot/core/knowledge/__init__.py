"""The knowledge base admins edit in `knowledge/`: loaded into frozen records, every problem as `path:line`."""

from bot.core.knowledge.load import check_knowledge, load_knowledge
from bot.core.knowledge.model import (
    CrisisCategory,
    Entry,
    KnowledgeBase,
    Organisation,
    SmallTalkKind,
    Source,
    Status,
    Topic,
)
from bot.core.knowledge.nodes import KnowledgeError, Problem, parse_day

__all__ = [
    "CrisisCategory",
    "Entry",
    "KnowledgeBase",
    "KnowledgeError",
    "Organisation",
    "Problem",
    "SmallTalkKind",
    "Source",
    "Status",
    "Topic",
    "check_knowledge",
    "load_knowledge",
    "parse_day",
]
