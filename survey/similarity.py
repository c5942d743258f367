"""How alike two structure names are, and what a free-text need matches: pure functions.

Used for the « Ressemble à » merge suggestions (a structure written in by a respondent and
one of the directory's) and the respondents' directory search. Names are compared on their
significant words: accents, case, punctuation, dotted acronyms (« C.C.A.S. » = « CCAS ») and
little words (« de la », « l' », « et »…) do not count; an acronym matches the words it
stands for (« CCAS » = « centre communal d'action sociale »). A shared place name alone
(« … de Guéret ») is not enough: two names must share a word that says what the structure
is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher

# Articles, prepositions and conjunctions: they tell nothing about which structure it is.
STOPWORDS = frozenset((
    "a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "pour",
    "par", "sur", "sous", "chez", "un", "une", "mon", "ma", "mes", "son", "sa", "ses", "qui",
    "que", "quoi", "avec", "dans",
))  # fmt: skip
# Below: name similarity (0..1) a suggestion needs. Names alone (type or commune unknown on
# one side) must be closer, since nothing else backs the guess.
THRESHOLD = 0.6
THRESHOLD_NAME_ONLY = 0.75
# A place word (commune, département) or a generic word (« centre », « association »)
# weighs less than a word saying what the structure is.
PLACE_WEIGHT = 0.5
GENERIC = frozenset((
    "association", "centre", "service", "services", "maison", "espace", "point", "pole",
    "bureau", "agence", "antenne", "office", "union", "federation", "france", "accueil",
))  # fmt: skip

_LETTER = r"[^\W\d_]"
_DOTTED = re.compile(rf"\b(?:{_LETTER}\.){{2,}}{_LETTER}?\.?")  # c.c.a.s. / u.d.a.f
_NON_WORD = re.compile(r"[\W_]+")
# Ligatures a French keyboard types, spelt out as their letters (NFKD leaves them whole).
SPELT_OUT = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ẞ": "ss"})


def fold(text: str) -> str:
    """Lowercase without accents, œ, æ and ß spelled out; letters of every script are kept
    (a name in Greek, Arabic or Cyrillic is not folded to nothing)."""
    text = unicodedata.normalize("NFKD", text.translate(SPELT_OUT))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()


def words(text: str) -> list[str]:
    """The significant words of `text`, folded, in order: « C.C.A.S. de la Creuse » ->
    ['ccas', 'creuse']; « l'Épicerie » -> ['epicerie']."""
    text = _DOTTED.sub(lambda m: m.group().replace(".", ""), fold(text))
    return [w for w in _NON_WORD.split(text) if w and w not in STOPWORDS]


def stem(word: str) -> str:
    """A crude French stem, enough to match plurals and feminines: « locales » -> « local »."""
    if len(word) > 3 and word[-1] in "sx":
        word = word[:-1]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def words_match(a: str, b: str) -> bool:
    """Same word up to plural/feminine, an abbreviation (« pop » for « populaire ») or one
    typo in a long word."""
    sa, sb = stem(a), stem(b)
    if sa == sb:
        return True
    if a.isdigit() or b.isdigit():
        return False
    short, long_ = sorted((sa, sb), key=len)
    if len(short) >= 3 and long_.startswith(short):
        return True
    return min(len(sa), len(sb)) >= 6 and SequenceMatcher(None, sa, sb).ratio() >= 0.85


def _expand_acronyms(mine: list[str], theirs: list[str]) -> list[str]:
    """`theirs` with each run of words whose initials spell one of `mine`'s words replaced
    by that word: « centre communal action sociale » -> « ccas » when `mine` has « ccas »."""
    acronyms = {w for w in mine if 2 <= len(w) <= 6 and w.isalpha()}
    out: list[str] = []
    i = 0
    while i < len(theirs):
        for acronym in acronyms:
            run = theirs[i : i + len(acronym)]
            if len(run) == len(acronym) and "".join(w[0] for w in run) == acronym:
                out.append(acronym)
                i += len(acronym)
                break
        else:
            out.append(theirs[i])
            i += 1
    return out


@dataclass(frozen=True)
class Comparison:
    score: float  # 0..1, weighted Dice coefficient of the matched words
    shared: tuple[str, ...]  # significant (non-place) words both names have


def compare_names(
    a: str,
    b: str,
    places: Collection[str] = (),
    aliases: Mapping[str, str] | None = None,
) -> Comparison:
    """How alike two names are. `places` are folded place words (communes, the territory's
    name), weighted down; `aliases` rewrite a word before comparing ({'23': 'Creuse'}: the
    département's number stands for its name)."""
    aliases = aliases or {}
    wa = [x for w in words(a) for x in words(aliases.get(w, w))]
    wb = [x for w in words(b) for x in words(aliases.get(w, w))]
    wa, wb = _expand_acronyms(wb, wa), _expand_acronyms(wa, wb)

    def weight(w: str) -> float:
        return PLACE_WEIGHT if w in places or w in GENERIC else 1.0

    total = sum(weight(w) for w in wa) + sum(weight(w) for w in wb)
    if not total:
        return Comparison(0.0, ())
    free = list(wb)
    matched = 0.0
    shared: list[str] = []
    for w in wa:
        other = next((o for o in free if words_match(w, o)), None)
        if other is None:
            continue
        free.remove(other)
        matched += weight(w) + weight(other)
        if w not in places and other not in places:
            shared.append(w)
    return Comparison(matched / total, tuple(shared))


@dataclass(frozen=True)
class Named:
    """A structure as the suggestion sees it: name, family of type ('' when unknown) and
    commune ('' when unknown)."""

    name: str
    family: str = ""
    commune: str = ""


def suggestion_score(
    a: Named,
    b: Named,
    communes: Iterable[str] = (),
    territory: Iterable[str] = (),
    aliases: Mapping[str, str] | None = None,
) -> float | None:
    """The similarity of `a` and `b` when `b` is worth suggesting as the same structure as
    `a`, else None. `communes` are the territory's known communes, `territory` the words
    naming the territory itself (« Creuse »).

    Never when the names share no significant word, when both types or both communes are
    known and differ, or when each name holds a commune and not the same one (« France
    services de Boussac » is not « … de Bourganeuf »); with a type or a commune unknown, the
    names must be closer."""
    ca, cb = " ".join(words(a.commune)), " ".join(words(b.commune))
    if a.family and b.family and a.family != b.family:
        return None
    if ca and cb and ca != cb:
        return None
    commune_words = {w for p in (*communes, a.commune, b.commune) for w in words(p)}
    local_a = set(words(a.name)) & commune_words
    local_b = set(words(b.name)) & commune_words
    if local_a and local_b and not local_a & local_b:
        return None
    place_words = commune_words | {w for p in territory for w in words(p)}
    found = compare_names(a.name, b.name, place_words, aliases)
    if not found.shared:
        return None
    known = a.family and b.family and ca and cb
    if found.score < (THRESHOLD if known else THRESHOLD_NAME_ONLY):
        return None
    return found.score


def matching_words(query: Iterable[str], text: str) -> set[str]:
    """The words of `query` (already from `words()`) that `text` contains, up to plural and
    feminine or as the start of a longer word (« handicap » finds « handicapées »)."""
    found = set()
    stems = {stem(w) for w in words(text)}
    for q in query:
        sq = stem(q)
        if any(s == sq or (len(sq) >= 4 and s.startswith(sq)) for s in stems):
            found.add(q)
    return found
