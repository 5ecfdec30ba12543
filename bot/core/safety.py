"""Crisis detection: runs before anything else, so that a person in danger always gets 112 first.

The lexicon errs towards recall: a false alarm costs one extra message with 112 in it, a miss can cost a life.
Each category names the hotline the reply adds after 112.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.patterns import compile_phrases

# category -> language -> phrases (see bot.core.patterns for the syntax)
LEXICON: dict[str, dict[str, list[str]]] = {
    "suicide": {
        "en": ["suicid*", "kill myself", "end my life", "want to die", "wanna die", "dont want to live",
               "don t want to live", "do not want to live", "take my own life", "hurt myself", "cut myself",
               "no reason to live", "better off dead", "killing myself", "end it all", "take my life", "hang myself",
               "jump off", "dont want to be alive", "life is not worth"],
        "bg": ["самоуби*", "искам да умра", "не искам да живея", "сложа край на живота си", "нараня себе си",
               "убия се", "да се убия", "ще се обеся", "да се обеся", "по-добре да умра", "скоча от"],
        "ru": ["суицид*", "самоуби*", "покончить с собой", "покончу с собой", "хочу умереть", "не хочу жить",
               "убить себя", "убью себя", "наложить на себя руки", "жить не хочу", "повеситься", "повешусь", "не хочу больше жить",
               "вскрыть вены", "лучше умереть", "жить не хочется", "выпрыгнуть из окна"],
        "uk": ["суїцид*", "самогуб*", "покінчити з собою", "покінчу з собою", "хочу померти", "не хочу жити",
               "вбити себе", "вб ю себе", "жити не хочу", "повішусь", "повіситися", "не хочу більше жити", "краще померти"],
        "ar": ["*انتحر*", "*انتحار*", "اقتل نفسي", "بدي اموت", "اريد ان اموت", "ابغى اموت", "بدي موت",
               "انهي حياتي", "ما بدي عيش", "لا اريد ان اعيش", "اقتل حالي", "اقتل روحي", "بموت حالي",
               "ما عاد بدي عيش"],
        "fa": ["خودکشی", "خودمو بکشم", "خودم را بکشم", "میخوام بمیرم", "می خواهم بمیرم", "میخواهم بمیرم",
               "نمی خواهم زنده", "نمیخوام زنده", "نمیخوام زندگی کنم", "به زندگیم پایان", "بکشم خودمو", "خودمو میکشم", "خودم را می کشم"],
    },
    "violence": {
        "en": ["kill me", "going to kill", "gonna kill", "will kill", "threaten* to kill", "threaten* my life",
               "has a knife", "has a gun", "with a knife", "with a gun", "beating me now", "hitting me now",
               "is beating me", "is hitting me", "are beating me", "attacking me", "attacked me", "rape*",
               "choking me", "strangl*", "i am in danger", "im in danger", "i m in danger", "in danger now",
               "not safe at home", "save me", "sos", "he is hurting me", "hes hurting me", "kicked me out and hit",
               "weapon", "threaten* with a knife", "threaten* with a gun", "murder*", "stab*", "shoot*",
               "beat me to death", "kill my children", "kill my kids", "kill my wife", "want* to kill me",
               "trying to kill me", "tried to kill me", "kill us"],
        "bg": ["ще ме убие", "убие ме", "да ме убие", "заплашва да ме уби*", "с нож", "с пистолет",
               "бие ме сега", "бие ме в момента", "в опасност съм", "нападат ме", "нападна ме", "изнасил*",
               "души ме", "спасете ме", "пребива ме", "ще ме пребие", "убийство", "заплашва ме с", "с ножа", "оръжие",
               "ще ме заколи", "ще ме застреля", "иска* да ме уби*", "ще ни убие", "ще ни убият", "опита да ме уби*"],
        "ru": ["убьет меня", "убьют меня", "меня убьет", "меня убьют", "хочет меня убить", "хочет убить",
               "угрожает убить", "угрожает убийством", "с ножом", "с пистолетом", "бьет меня сейчас",
               "сейчас бьет", "меня бьют", "избивает меня", "избивают", "я в опасности", "напал*",
               "изнасил*", "душит меня", "спасите", "помогите срочно", "угрож* убий*", "угрож* ножом", "убийств*",
               "убить меня", "прибьет", "зарежет", "задушит", "застрелит", "оружие", "ножом", "хот* убить",
               "хоч* убить", "хот* меня убить", "пытал* убить", "убьют нас", "убьет нас"],
        "uk": ["вб є мене", "вбє мене", "вбʼє мене", "мене вб є", "хоче мене вбити", "хоче вбити",
               "погрожує вбити", "з ножем", "з пістолетом", "б є мене зараз", "зараз б є", "мене б ють",
               "мене бють", "я в небезпеці", "напав*", "ґвалт*", "зґвалт*", "душить мене", "рятуйте", "погрож* вбивств*",
               "вбивств*", "вб ють", "ножем", "зброя", "заріже", "застрелить", "хоч* вбити", "хоч* мене вбити",
               "намага* вбити", "вб ють нас", "вб є нас",
               "допоможіть терміново"],
        "ar": ["*قتلني*", "*يقتلني*", "*بالقتل*", "سكين", "بسكين", "مسدس", "سلاح", "عم يضربني",
               "يضربني الان", "يضربني هلق", "يضربني هلا", "انا في خطر", "انا بخطر", "*اغتصب*", "*اغتصاب*",
               "انقذوني", "النجدة", "ساعدوني بسرعة", "يخنقني", "*يذبحني*", "*يهدد* بالقتل", "*يهدد* بسكين",
               "تهديد بالقتل", "*يقتلوني*"],
        "fa": ["منو میکشه", "منو بکشه", "مرا بکشد", "مرا می کشد", "تهدید به قتل", "چاقو", "تفنگ", "اسلحه",
               "داره منو میزنه", "داره منو می زنه", "الان منو میزنه", "در خطرم", "در خطر هستم", "تجاوز*",
               "نجاتم بدید", "نجاتم بدهید", "کمک فوری", "خفه ام میکنه", "تهدید به مرگ", "منو میکشن", "مرا می کشند",
               "با چاقو", "تهدیدم میکنه به مرگ", "منو بکش*", "مرا بکش*", "میخوان * بکشن*", "می خواهند * بکشند"],
    },
    "child": {
        "en": ["child* in danger", "kid* in danger", "hurting my child", "hurting a child", "beating my child",
               "beats my child", "beats the child", "hits my child", "child is missing", "child missing",
               "kid is missing", "kidnap*", "abduct*", "son is missing", "daughter is missing"],
        "bg": ["дете* в опасност", "детето ми изчезна", "бие детето", "бие дете*", "отвлеч*", "отвлякоха"],
        "ru": ["ребен* в опасности", "дет* в опасности", "ребенок пропал", "пропал ребенок", "бьет ребенка",
               "бьет детей", "похитил*", "похищ*", "украли ребенка"],
        "uk": ["дитин* в небезпеці", "діти в небезпеці", "дитина зникла", "зникла дитина", "б є дитину",
               "бє дитину", "викрал*", "викрадення"],
        "ar": ["طفل* خطر", "الطفل في خطر", "ابني في خطر", "بنتي في خطر", "*خطف*", "ابني ضايع", "بنتي ضايعة",
               "يضرب ابني", "يضرب الاطفال", "يضرب بنتي"],
        "fa": ["بچه* در خطر", "کودک* در خطر", "بچه ام گم شده", "بچه ام را دزدیدند", "*ربود*", "بچه مو میزنه",
               "بچه را میزند", "بچه ام را میزند"],
    },
    "trafficking": {
        "en": ["locked in", "locked me", "lock me", "wont let me leave", "won t let me leave", "cant escape",
               "can t escape", "held against my will", "keep me prisoner", "they sold me", "sold me"],
        "bg": ["заключ*", "не ме пускат", "не мога да избягам", "държат ме насила", "продадоха ме"],
        "ru": ["запер*", "запира*", "не выпускают", "не отпускают", "не могу сбежать", "держат силой",
               "держат взаперти", "продали меня"],
        "uk": ["замкн*", "замика*", "не випускають", "не відпускають", "не можу втекти", "тримають силою",
               "продали мене"],
        "ar": ["*حابسيني*", "*يحبسوني*", "محبوس", "محبوسة", "ما بيخلوني اطلع", "لا استطيع الهروب",
               "ما بقدر اهرب", "باعوني"],
        "fa": ["زندانی کرده اند", "زندانیم کردن", "حبسم کرده", "نمیذارن برم", "نمی گذارند بروم",
               "نمی توانم فرار کنم", "منو فروختن"],
    },
    "medical": {
        "en": ["not breathing", "cant breathe", "can t breathe", "unconscious", "heart attack", "overdose",
               "bleeding a lot", "lot of blood", "seizure", "poisoned"],
        "bg": ["не диша", "не мога да дишам", "в безсъзнание", "инфаркт", "кърви много", "отрови се",
               "припадна"],
        "ru": ["не дышит", "не могу дышать", "без сознания", "инфаркт", "сильное кровотечение",
               "много крови", "отравил*", "потерял сознание"],
        "uk": ["не дихає", "не можу дихати", "без свідомості", "інфаркт", "сильна кровотеча",
               "багато крові", "отруїв*", "знепритомнів"],
        "ar": ["ما عم يتنفس", "لا يتنفس", "مش قادر اتنفس", "فاقد الوعي", "مغمى عليه", "جلطة", "نزيف",
               "تسمم"],
        "fa": ["نفس نمی کشد", "نفس نمیکشه", "نمی توانم نفس بکشم", "بیهوش", "سکته", "خونریزی", "مسموم"],
    },
}

# When several categories match, the reply names the hotline of the most specific one.
PRIORITY = ("child", "trafficking", "violence", "suicide", "medical")


@dataclass(frozen=True)
class Alert:
    category: str


class SafetyCheck:
    """Matches folded text against the crisis lexicon of every language at once.

    All languages are checked, not only the detected one: a person in danger may write in a language the
    detector gets wrong, or mix two.
    """

    def __init__(self, lexicon: dict[str, dict[str, list[str]]] | None = None) -> None:
        source = lexicon or LEXICON
        self._patterns = []
        for category in PRIORITY:
            phrases = [p for by_lang in source.get(category, {}).values() for p in by_lang]
            pattern = compile_phrases(phrases)
            if pattern is not None:
                self._patterns.append((category, pattern))

    def check(self, folded: str) -> Alert | None:
        for category, pattern in self._patterns:
            if pattern.search(folded):
                return Alert(category)
        return None
