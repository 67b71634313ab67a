"""The words of who-said-what (index/quotes/finder.py): speech verbs, honorifics and roles, the shape of a name,
and the words that look like names but are not (function words, calendar words, places, organisations).

A name is a run of capitalised words on one line (`_SP` has no line break: a byline above the text never joins
the first sentence), with particles (`al-Assad`, `von der Leyen`) and combining accents (an NFD `Orbán`); an
apostrophe only inside a name (`O'Brien`), so a possessive's "’s" is never part of one.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from index.lexicon.places import is_place

VERBS = (r"said|says|say|told|tells|reiterated|reiterates|added|adds|adding|warned|warns|stated|states|announced|"
         r"announces|insisted|insists|argued|argues|claimed|claims|noted|notes|explained|explains|urged|urges|asked|"
         r"asks|called|declared|declares|stressed|stresses|admitted|admits|acknowledged|acknowledges|wrote|writes|"
         r"tweeted|posted|replied|replies|responded|responds|confirmed|confirms|denied|denies|predicted|predicts|"
         r"vowed|vows|promised|promises|suggested|suggests|continued|recalled|recalls|testified|cautioned|conceded|"
         r"countered|emphasized|emphasised|maintained|alleged|remarked|observed|commented|pledged|joked|texted")
INVERTED_VERBS = (r"said|says|added|adds|wrote|writes|asked|asks|explained|noted|recalled|continued|told|tweeted|"
                  r"posted|argued|warned|insisted|countered|replied|responded|stated|declared")
ADVERBS = (r"also|later|then|has|had|have|previously|again|once|recently|repeatedly|reportedly|publicly|separately|"
           r"initially|earlier|further|simply|quickly|flatly|bluntly|angrily|defiantly")
HONORIFICS = {"mr": None, "mrs": None, "ms": None, "dr": "doctor", "sen": "senator", "rep": "representative",
              "gov": "governor", "gen": "general", "prof": "professor", "pres": "president", "lt": "lieutenant",
              "col": "colonel", "sgt": "sergeant", "capt": "captain", "adm": "admiral", "rev": "reverend",
              "sir": None, "dame": None, "lord": None, "lady": None, "supt": "superintendent", "atty": "attorney"}
HONORIFIC = r"(?:" + "|".join(h.capitalize() for h in HONORIFICS) + r")\.?"
MARKS = "\u0300-\u036f"  # combining accents: an NFD "Orbán" is "Orba" + U+0301 + "n"
WORD = rf"[A-Z][\w{MARKS}\-]*(?:[’'][A-Z][\w{MARKS}\-]*)?"  # O'Brien; never the "’s" of a possessive
SP = r"[ \t\u00a0]+"  # names never run across a line break
PARTICLE = r"(?:al-|el-|bin |ibn |de |da |del |della |di |du |la |le |van der |van |von der |von |der )"
NAME = rf"(?![DRI]-[A-Z])(?:{HONORIFIC}{SP})?{WORD}(?:{SP}{PARTICLE}?(?:{WORD}|[A-Z]\.)){{0,5}}"
ROLE_NOUNS = {"secretary", "minister", "spokesman", "spokeswoman", "spokesperson", "president", "official",
              "chief", "leader", "ambassador", "director", "counterpart", "chancellor", "senator", "governor",
              "mayor", "general", "commander", "prime", "premier", "king", "queen", "envoy", "adviser",
              "advisor", "analyst", "professor", "ceo", "chairman", "chairwoman", "chair", "head",
              "representative", "judge", "coach", "manager", "founder", "co-founder", "executive", "officer",
              "deputy", "lawmaker", "candidate", "sheriff", "prosecutor", "attorney", "commissioner", "inspector",
              "justice", "superintendent", "treasurer", "speaker", "whip", "councilman", "councilwoman",
              "trooper", "captain", "lieutenant", "colonel", "admiral", "marshal", "warden", "economist",
              "researcher", "scientist", "doctor", "pastor", "bishop", "cardinal", "pope", "rabbi", "dean",
              "principal", "lawyer", "author", "owner", "partner", "president-elect", "strategist", "pollster",
              "son", "daughter", "wife", "husband", "mother", "father", "sister", "brother", "grandson",
              "granddaughter", "friend", "neighbor", "neighbour", "widow", "fiancé", "fiancée", "aide",
              "administrator", "developer", "actor", "actress", "singer", "rapper", "musician", "artist", "writer",
              "journalist", "reporter", "editor", "producer", "host", "anchor", "comedian", "quarterback",
              "astronaut", "meteorologist", "forecaster", "activist", "historian", "expert", "consultant",
              "investor", "billionaire", "nominee", "correspondent", "detective", "sergeant", "agent"}
# Capitalised words that open a sentence or a clause and are not names ("As Forbes noted", "Despite Trump’s").
FUNCTION_WORDS = frozenset("""the a an in on at but and or so as if it its this that these those they he she we i
you his her their our my when while after before since despite although though because asked speaking however
meanwhile still yet now then also instead later earlier even only just like unlike with without from for by of
to into over under here there why what how who where which did does do is was are were has had have will would
could should can may might must see read watch updated contributing last next every each all both some many most
several other another no not yes thank thanks please dear oh well sure according during until among amid per via
photo video getty ap afp ad feedback share""".split())
CALENDAR = frozenset("""monday tuesday wednesday thursday friday saturday sunday january february march april may
june july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec""".split())
# Not persons, though written like names: places used for their governments, news agencies, institutions.
NOT_NAMES = frozenset("""moscow washington russia russian us u.s uk un white house kremlin beijing kyiv kiev london
paris brussels reuters police officials authorities""".split())
ORG_WORDS = frozenset("""party department court service association university committee council agency union
house senate congress center centre times post news commission institute foundation bank company corp inc group
office ministry administration force army navy guard police county city state states republic kingdom airport
festival conference games league club school college hospital museum church network board bureau authority
organization organisation fund program programme project act bill cup series awards tribune journal press radio
tv channel studio studios team magazine report coalition alliance forces media agency""".split())


NAME_RE = re.compile(NAME)
POSSESSIVE = re.compile(r"[’']s?\b")
ROLE_ALT = "|".join(sorted(ROLE_NOUNS, key=len, reverse=True))


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


_QUOTE_MARK = re.compile('[“”"]')


def inside_quotes(sentence: str) -> list[bool]:
    """Per character: is it inside quotation marks (curly “...” or straight "...")? A mark itself counts as
    inside. Walks the marks, not every character (a per-character loop was a quarter of finding quotes)."""
    out = [False] * len(sentence)
    depth, straight, at = 0, False, 0
    for m in _QUOTE_MARK.finditer(sentence):
        i, ch = m.start(), m.group()
        if depth > 0 or straight:
            out[at:i] = [True] * (i - at)
        if ch == "“":
            depth += 1
        elif ch == '"':
            straight = not straight
        out[i] = depth > 0 or straight
        if ch == "”":
            depth = max(0, depth - 1)
        at = i + 1
    if depth > 0 or straight:
        out[at:] = [True] * (len(sentence) - at)
    return out


@lru_cache(maxsize=16384)
def clean(raw: str, before: str) -> tuple[str | None, str] | None:
    """A name run as matched -> (role, name), or None when nothing of it is a name.
    'Illinois Gov. JB Pritzker' -> ('Illinois Gov.', 'JB Pritzker'); 'As Forbes' -> (None, 'Forbes');
    'Secretary of State Marco Rubio' (the run is 'State Marco Rubio' after 'Secretary of ') -> 'Marco Rubio'."""
    words = raw.split()
    for i in range(len(words) - 1, 0, -1):  # 'Michael Loria The Trump': a headline run into the text
        if words[i].lower() in FUNCTION_WORDS:
            words = words[i + 1:]
            break
    while words and words[0].lower().strip(".") in FUNCTION_WORDS:
        words = words[1:]
    if words and words[0].lower().strip(".") in CALENDAR:  # 'Monday Trump' yes, 'Saturday Night Live' no
        if len(words) != 2:
            return None
        words = words[1:]
    while words and words[-1].lower().strip(".") in CALENDAR:
        words = words[:-1]
    role_words: list[str] = []
    for i, w in enumerate(words):
        key = w.lower().strip(".")
        if key in ROLE_NOUNS or (key in HONORIFICS and HONORIFICS[key] and w[0].isupper() and i < len(words) - 1):
            role_words = words[: i + 1]
    name_words = words[len(role_words):]
    if name_words and name_words[0].lower().strip(".") in HONORIFICS:  # Mr Kerry: no role, just a form of address
        name_words = name_words[1:]
    tail = before.split()[-4:]
    full = [i for i, w in enumerate(name_words) if not w.endswith(".")]
    if tail and tail[-1] in {"of", "for", "the"} and len(full) >= 3:  # 'Secretary of State Marco Rubio'
        role_words, name_words = role_words + name_words[: full[-2]], name_words[full[-2]:]
    name = nfc(" ".join(name_words))
    if len(name) < 3 or name_words[0].lower() in NOT_NAMES or name.lower() in NOT_NAMES or is_place(name):
        return None
    role = " ".join(role_words) or None
    if role is None and tail and tail[-1].lower().strip(",") in ROLE_NOUNS:  # 'US secretary John Kerry'
        while tail and tail[0][0].islower() and tail[0].lower() not in ROLE_NOUNS:
            tail = tail[1:]
        role = " ".join(tail).strip(",") or None
    return role, name


def is_org(name: str) -> bool:
    return name.split()[-1].lower() in ORG_WORDS or name.isupper()


def role_words(role: str) -> set[str]:
    words = {w.lower().strip(".") for w in role.split()}
    return words | {h for w in words if (h := HONORIFICS.get(w))}
