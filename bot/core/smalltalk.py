"""Greetings, thanks, goodbyes and "let me talk to a person": messages that are not questions.

A message counts as small talk only when nothing else is left once these words and function words are taken
out, so "hi, do I need health insurance?" still goes to the FAQ.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.patterns import compile_phrases
from bot.core.stopwords import STOPWORDS

INTENTS: dict[str, dict[str, list[str]]] = {
    "human": {
        "en": ["talk to a person", "talk to a human", "speak to a person", "speak to someone", "real person",
               "human please", "talk to someone", "consultant", "operator", "speak with a human", "live agent"],
        "bg": ["консултант*", "оператор", "жив човек", "истински човек", "да говоря с човек", "човек моля"],
        "ru": ["консультант*", "оператор*", "живой человек", "живым человеком", "с человеком", "поговорить с человеком"],
        "uk": ["консультант*", "оператор*", "жива людина", "живою людиною", "з людиною", "поговорити з людиною"],
        "ar": ["بدي مستشار", "اريد مستشار", "احكي مع مستشار", "اسال مستشار", "موظف", "انسان حقيقي", "شخص حقيقي", "احكي مع شخص", "اتكلم مع شخص", "بدي احكي مع حدا"],
        "fa": ["با مشاور صحبت", "با یک مشاور", "مشاور میخوام", "مشاور می خواهم", "پرسیدن از مشاور", "اپراتور", "آدم واقعی", "با یک نفر صحبت", "با یک آدم حرف", "با کسی صحبت"],
    },
    "greeting": {
        "en": ["hi", "hello", "hey", "hallo", "good morning", "good afternoon", "good evening", "greetings",
               "salam", "yo", "start", "how are you", "how r u", "whats up"],
        "bg": ["здравей*", "здрасти", "добър ден", "добро утро", "добър вечер", "привет", "хей", "ало", "как си", "как сте"],
        "ru": ["привет*", "здравствуй*", "здрасте", "добрый день", "доброе утро", "добрый вечер", "салам", "хай",
               "zdravstvujte", "zdravstvuite", "privet", "как дела", "как вы"],
        "uk": ["привіт*", "вітаю", "добрий день", "доброго дня", "доброго ранку", "добрий вечір", "здрастуйте",
               "privit", "як справи", "як ви"],
        "ar": ["مرحبا", "مرحباً", "اهلا", "أهلا", "السلام عليكم", "سلام", "صباح الخير", "مساء الخير", "هاي", "كيفك", "كيف حالك", "شلونك"],
        "fa": ["سلام", "درود", "صبح بخیر", "عصر بخیر", "شب بخیر", "سلام علیکم", "وقت بخیر", "چطوری", "خوبی", "حالتون چطوره"],
    },
    "thanks": {
        "en": ["thanks", "thank you", "thx", "ty", "thank u", "very much", "so much", "a lot"],
        "bg": ["благодаря", "благодар*", "много", "мерси"],
        "ru": ["спасибо", "большое", "огромное", "благодар*", "спс"],
        "uk": ["дякую", "дуже", "щиро", "дякуємо", "спасибі"],
        "ar": ["شكرا", "شكراً", "جزيلا", "كتير", "مشكور", "مشكورين", "يعطيك العافية"],
        "fa": ["مرسی", "خیلی", "ممنون", "ممنونم", "متشکرم", "سپاس", "دستت درد نکنه"],
    },
    "ack": {
        "en": ["ok", "okay", "k", "great", "cool", "got it", "perfect", "understood", "good", "fine", "alright"],
        "bg": ["ок", "окей", "добре", "супер", "чудесно", "разбрах", "ясно"],
        "ru": ["ок", "окей", "хорошо", "понятно", "ясно", "супер", "отлично", "ладно"],
        "uk": ["ок", "окей", "добре", "зрозуміло", "ясно", "супер", "чудово", "гаразд"],
        "ar": ["تمام", "ممتاز", "اوكي", "طيب", "ماشي", "فهمت"],
        "fa": ["باشه", "عالی", "اوکی", "فهمیدم", "خوبه"],
    },
    "yes": {
        "en": ["yes", "yeah", "yep", "sure"],
        "bg": ["да"],
        "ru": ["да", "ага"],
        "uk": ["так", "ага"],
        "ar": ["نعم", "اي", "ايوه", "اه"],
        "fa": ["بله", "آره", "اره"],
    },
    "no": {
        "en": ["no", "nope", "nothing", "no thanks"],
        "bg": ["не", "нищо"],
        "ru": ["нет", "ничего"],
        "uk": ["ні", "нічого"],
        "ar": ["لا", "لأ", "لا شكرا"],
        "fa": ["نه", "نخیر", "هیچی"],
    },
    "bye": {
        "en": ["bye", "goodbye", "see you", "good night", "cya"],
        "bg": ["довиждане", "чао", "лека нощ", "до скоро"],
        "ru": ["пока", "до свидания", "всего доброго", "спокойной ночи"],
        "uk": ["бувай", "до побачення", "на все добре", "на добраніч"],
        "ar": ["مع السلامة", "باي", "الى اللقاء", "تصبح على خير"],
        "fa": ["خداحافظ", "خدانگهدار", "بای", "فعلا"],
    },
}


@dataclass(frozen=True)
class Intent:
    kind: str  # "human", "greeting", "thanks", "bye", "ack", "yes" or "no"


class SmallTalk:
    def __init__(self) -> None:
        compiled = {kind: compile_phrases([p for ps in by_lang.values() for p in ps]) for kind, by_lang in INTENTS.items()}
        self._human = compiled.pop("human")
        self._chat = [(kind, pattern) for kind, pattern in compiled.items() if pattern is not None]
        self._stop = frozenset().union(*STOPWORDS.values())

    def check(self, folded: str) -> Intent | None:
        if self._human is not None and self._human.search(folded):
            return Intent("human")
        first: str | None = None
        rest = folded
        for kind, pattern in self._chat:
            stripped = pattern.sub(" ", rest)
            if stripped != rest:
                first = first or kind
                rest = stripped
        if first and all(word in self._stop for word in rest.split()):
            return Intent(first)
        return None
