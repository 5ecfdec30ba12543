"""Function words that say nothing about the topic of a question, per language, in folded form.

Kept short on purpose: question words such as 'where' or 'how much' are not here, because they tell apart
'where do I apply' from 'how much does it cost'.
"""

from __future__ import annotations

from bot.core.text import fold

FUNCTION_WORDS: dict[str, str] = {
    "en": "i im i'm me my mine you your we our they them he she it its is are am was were be been do does did "
    "a an the to of in on at for with and or but if so that this these those there here can could would should "
    "will shall may might have has had get got please hi hello pls plz just any some about from by as not no "
    "there's what's whats which who whom whose how when where why still also too very really yes ok okay "
    "want know tell help someone something anything thing things one every all "
    "dont don't cant can't im i'm ive i've id i'd",
    "bg": "аз ме ми мен ти те ви вие ние нас той тя то те е са съм си сме сте бях беше да в във на за с със и или "
    "но ако че това тази този тези там тук ли се не ни от по при до като а мога може можем искам моля здравейте "
    "здрасти кой коя кое кои какво какъв каква какви как къде кога защо още също много има нещо някой",
    "ru": "я меня мне мой моя мои ты вы вас вам мы нас он она оно они их его ее это этот эта эти там тут здесь ли "
    "ли же бы и или но а если что чтобы в во на за с со к ко у о об от по при до из для как не ни быть есть был "
    "была было могу можно хочу пожалуйста здравствуйте привет подскажите скажите кто что какой какая какие "
    "где когда почему еще тоже очень есть ли это все всё там",
    "uk": "я мене мені мій моя мої ти ви вас вам ми нас він вона воно вони їх його її це цей ця ці там тут ли чи "
    "б і й та або але а якщо що щоб в у на за з із зі к до о об від по при для як не ні бути є був була було "
    "можу можна хочу будь ласка вітаю привіт підкажіть скажіть хто що який яка які де коли чому ще також "
    "дуже усе все",
    "ar": "انا انت انتم نحن هو هي هم في من على الى إلى عن مع و او أو ثم لكن اذا إذا ان أن هل ما لا هذا هذه ذلك "
    "تلك هناك هنا كان يكون عند عندي لي لك له لها يا بدي اريد أريد ممكن من فضلك لو سمحت مرحبا السلام عليكم",
    "fa": "من تو ما شما او آنها اونها در به از با و یا که را رو این آن اون اینجا آنجا هست است هستم هستید بود "
    "باشد می نمی های ها هم برای تا اگر آیا چه لطفا سلام ببخشید یک",
}

STOPWORDS: dict[str, frozenset[str]] = {lang: frozenset(fold(text).split()) for lang, text in FUNCTION_WORDS.items()}
