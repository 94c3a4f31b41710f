"""Polish locality names as published lists write them, and whether two of them name one place.

A list names a school's locality after „w” (locative: „w Nowym Sączu”), after „z” (genitive: „z Kęt”)
or as an adjective before the school type („olkuskie Gimnazjum”); the register holds the nominative
(„Nowy Sącz”). The forms are made by the common rules of Polish declension from the folded
nominative (every rule whose ending fits, so a few wrong forms are made too; they match nothing).

Villages often differ by one word or a suffix only: „Łososina Dolna” and „Łososina Górna”, „Porąbka”
and „Porąbka Uszewska”, „Wola Radziszowska” and „Radziszów”, „Zagórze” and „Zagórzany”. A fuzzy
similarity of the whole name rates such pairs as high as a typo, so :func:`same_place` compares them
word by word: every word must be a form of the register's word, give or take one typo away from the
word's ending (where Polish builds another place's name), and no word may be left over on either side.
"""
from __future__ import annotations

import itertools
from typing import Sequence

from zpb_lib.core.text import fold

_HARD = (("st", "scie"), ("zd", "zdzie"), ("sl", "sle"), ("sn", "snie"), ("ch", "sze"), ("t", "cie"), ("d", "dzie"),
         ("r", "rze"), ("l", "le"), ("n", "nie"), ("m", "mie"), ("w", "wie"), ("s", "sie"), ("z", "zie"),
         ("b", "bie"), ("p", "pie"), ("f", "fie"), ("k", "ce"), ("g", "dze"))
_SOFT_A = (("cz", "czy"), ("sz", "szy"), ("rz", "rzy"), ("dz", "dzy"), ("c", "cy"), ("j", "i"))
_PREPOSITIONS = frozenset({"nad", "pod", "przy", "k", "kolo", "na"})
_IRREGULAR_LOCATIVE = {"wies": ("wsi",), "miasto": ("miescie",), "zdroj": ("zdroju",), "gora": ("gorze",),
                       "wola": ("woli",), "dwor": ("dworze",), "bor": ("borze",)}
_IRREGULAR_GENITIVE = {"wies": ("wsi",), "miasto": ("miasta",), "zdroj": ("zdroju",), "gora": ("gory",),
                       "wola": ("woli",), "dwor": ("dworu",), "bor": ("boru",)}
# A town's name may be left out after its own: „Rabka” is „Rabka-Zdrój”.
OPTIONAL_WORDS = frozenset({"zdroj"})
# Words of a place's name that make another place of the same stem („Łososina Dolna”, „Wola X”).
QUALIFIER_STEMS = ("doln", "gorn", "wielk", "mal", "wyzn", "nizn", "now", "star", "duz", "sredn", "koloni", "wol")
_ADJECTIVE_ENDINGS = ("a", "e", "y", "i", "ej", "ie", "ym", "im", "ych", "ich", "ego", "iego", "emu", "iemu", "iej")
# Adjectives of towns as lists put them before the school type („olkuskie Gimnazjum nr 1”, „bocheńska
# Szkoła Podstawowa”): the folded stem, and the town. The county seats and Małopolska's larger towns.
TOWN_ADJECTIVES = {
    "bochensk": "Bochnia", "brzesk": "Brzesko", "chrzanowsk": "Chrzanów", "dabrowsk": "Dąbrowa Tarnowska",
    "gorlick": "Gorlice", "krakowsk": "Kraków", "limanowsk": "Limanowa", "miechowsk": "Miechów",
    "myslenick": "Myślenice", "nowosadeck": "Nowy Sącz", "nowotarsk": "Nowy Targ", "olkusk": "Olkusz",
    "oswiecimsk": "Oświęcim", "proszowick": "Proszowice", "susk": "Sucha Beskidzka", "tarnowsk": "Tarnów",
    "zakopiansk": "Zakopane", "wadowick": "Wadowice", "wielick": "Wieliczka", "skawinsk": "Skawina",
    "starosadeck": "Stary Sącz", "tuchowsk": "Tuchów", "andrychowsk": "Andrychów", "keck": "Kęty",
    "rabczansk": "Rabka-Zdrój", "krynick": "Krynica-Zdrój", "niepolomick": "Niepołomice", "trzebinsk": "Trzebinia",
    "wolbromsk": "Wolbrom", "grybowsk": "Grybów", "dobczyck": "Dobczyce", "libiask": "Libiąż", "bieck": "Biecz",
}


def _hard(stem: str) -> list[str]:
    for end, repl in _HARD:
        if stem.endswith(end):
            return [stem[: -len(end)] + repl]
    return []


def word_locatives(w: str) -> list[str]:
    """Locative forms of one folded word of a locality's name (after „w”)."""
    if w in _IRREGULAR_LOCATIVE:
        return list(_IRREGULAR_LOCATIVE[w])
    forms: list[str] = []
    if w.endswith("ow"):  # Kraków, Tarnów (ó is folded to o)
        forms += [w[:-2] + "owie", w + "ie"]
    if w.endswith("a"):
        stem = w[:-1]
        forms.append(stem + ("iej" if stem.endswith(("k", "g")) else "ej"))  # Nowa, Tarnowska, Wielka
        if stem.endswith("i"):  # Bochnia → Bochni, Kalwaria → Kalwarii
            forms += [stem, stem + "i"]
        soft = next((stem[: -len(e)] + r for e, r in _SOFT_A if stem.endswith(e)), None)
        forms += [soft] if soft else _hard(stem)
        if stem.endswith(("z", "l")) and not soft:
            forms.append(stem + "y" if stem.endswith("z") else stem + "i")  # ż, l fold like z, ł: Stróży, Woli
    elif w.endswith("o"):
        stem = w[:-1]
        forms += [stem + "u"] + ([] if stem.endswith(("k", "g", "ch")) else _hard(stem))
    elif w.endswith("e"):
        stem = w[:-1]
        forms += [stem + "u", stem + "em", stem + "ach"]  # Zagórze, Zakopane, Gorlice
        forms += [stem + "m", stem + "ch"] if stem.endswith("i") else [stem + "ym", stem + "ych"]
    elif w.endswith("y"):
        forms += [w + "m", w[:-1] + "ach", w + "ch"]  # Nowy, Łazy
    elif w.endswith("i"):
        forms += [w + "m", w[:-1] + "ach", w + "ch"]  # Wielki, Słomniki
    else:
        if w.endswith("ek"):
            forms.append(w[:-2] + "ku")  # Borek
        if w.endswith("ec"):
            forms.append(w[:-3 if w.endswith("iec") else -2] + "cu")  # Dunajec → Dunajcu, Chełmiec → Chełmcu
        if w.endswith(("k", "g", "h", "c", "sz", "cz", "rz", "z", "j", "l", "dz")):
            forms.append(w + "u")  # Łęg, Olkusz, Sącz, Targ
        if w.endswith(("n", "s", "z", "c")) and not w.endswith(("cz", "rz", "sz")):
            forms.append(w + "iu")  # Niedźwiedź, Lubień, Kamień (ń, ś, ź, ć folded away)
        if w.endswith(("m", "w", "p", "b", "f")):
            forms += [w + "iu", w + "ie"]  # Oświęcim, Wrocław
        forms += _hard(w)
    return list(dict.fromkeys(f for f in forms if f))


def word_genitives(w: str) -> list[str]:
    """Genitive forms of one folded word of a locality's name (after „z”: „z Kęt”, „z Nowego Sącza”)."""
    if w in _IRREGULAR_GENITIVE:
        return list(_IRREGULAR_GENITIVE[w])
    forms: list[str] = []
    if w.endswith("ow"):  # Kraków → Krakowa
        forms.append(w + "a")
    elif w.endswith("a"):
        stem = w[:-1]
        forms.append(stem + ("iej" if stem.endswith(("k", "g")) else "ej"))  # Limanowa, Dolna, Wielka
        if stem.endswith("i"):  # Bochnia → Bochni, Kalwaria → Kalwarii
            forms += [stem, stem + "i"]
        elif stem.endswith(("k", "g")):  # Wieliczka → Wieliczki
            forms.append(stem + "i")
        elif stem.endswith("j"):  # Zawoja → Zawoi
            forms.append(stem[:-1] + "i")
        elif stem.endswith("l"):  # Wola → Woli, Skała → Skały (ł folded to l)
            forms += [stem + "i", stem + "y"]
        else:  # Łososina → Łososiny, Stróża → Stróży, Łukowica → Łukowicy
            forms.append(stem + "y")
    elif w.endswith("o"):  # Brzesko → Brzeska
        forms.append(w[:-1] + "a")
    elif w.endswith("e"):
        stem = w[:-1]
        forms += [stem + "a", stem, stem + "ego"]  # Zagórze, Gorlice → Gorlic, Zakopane → Zakopanego
        forms.append(stem + ("ch" if stem.endswith("i") else "ych"))  # Dolne → Dolnych
    elif w.endswith(("y", "i")):
        forms += [w[:-1], w + "ego" if w.endswith("i") else w[:-1] + "ego"]  # Kęty → Kęt, Nowy → Nowego
    else:
        if w.endswith("ek"):
            forms += [w[:-2] + "ka", w[:-2] + "ku"]  # Borek, Tenczynek
        if w.endswith("ec"):
            forms.append(w[:-3 if w.endswith("iec") else -2] + "ca")  # Dunajec → Dunajca
        forms += [w + "a", w + "u"]  # Olkusz → Olkusza, Targ → Targu
        if w.endswith(("m", "w", "p", "b", "f")) or (w.endswith(("n", "s", "z", "c"))
                                                     and not w.endswith(("cz", "rz", "sz"))):
            forms.append(w + "ia")  # Wolbrom → Wolbromia, Niedźwiedź → Niedźwiedzia
    return list(dict.fromkeys(f for f in forms if f))


def _phrases(words: list[str], declined, limit: int) -> list[str]:
    options: list[list[str]] = []
    fixed = False
    for w in words:
        fixed = fixed or w in _PREPOSITIONS
        options.append([w] if fixed or w.isdigit() else declined(w) or [w])
    return [" ".join(c) for c in itertools.islice(itertools.product(*options), limit)]


def locative_forms(locality: str, *, limit: int = 64) -> list[str]:
    """The folded forms under which ``locality`` may be written after „w”: its locative forms by
    the common rules of Polish declension and the nominative itself, e.g. "Nowy Sącz" →
    ["nowym saczu", …, "nowy sacz"]. Words after a preposition ("Gródek nad Dunajcem") stay."""
    words = fold(locality).split()
    if not words:
        return []
    return list(dict.fromkeys([*_phrases(words, word_locatives, limit), " ".join(words)]))


def place_forms(locality: str, *, limit: int = 48) -> list[str]:
    """Every folded form a list may name ``locality`` by: locative, genitive, nominative (and
    without „Zdrój”, which lists leave out)."""
    words = fold(locality).split()
    if not words:
        return []
    out = [*_phrases(words, word_locatives, limit), *_phrases(words, word_genitives, limit), " ".join(words)]
    if len(words) > 1 and words[-1] in OPTIONAL_WORDS:
        out += place_forms(" ".join(words[:-1]), limit=limit)
    return list(dict.fromkeys(out))


def word_forms(locality: str) -> tuple[frozenset[str], ...]:
    """Per word of ``locality``: the folded forms that word takes in a list (any case)."""
    out = []
    fixed = False
    for w in fold(locality).split():
        fixed = fixed or w in _PREPOSITIONS
        forms = {w} if fixed or w.isdigit() else {w, *word_locatives(w), *word_genitives(w)}
        out.append(frozenset(forms))
    return tuple(out)


def _one_typo(written: str, form: str) -> bool:
    """One slip of the keyboard: two neighbouring letters swapped anywhere, or one letter wrong, missing
    or extra away from the last two letters, where Polish makes another place's name from the same
    stem („Tenczyn” and „Tenczynek”: „Tenczynie”, „Tenczynku”)."""
    n, m = len(written), len(form)
    if n == m:
        diff = [k for k in range(n) if written[k] != form[k]]
        if len(diff) == 2 and diff[1] == diff[0] + 1:
            return written[diff[0]] == form[diff[1]] and written[diff[1]] == form[diff[0]]
        return len(diff) == 1 and diff[0] < n - 2
    if abs(n - m) != 1:
        return False
    longer, shorter = (written, form) if n > m else (form, written)
    k = next((k for k in range(len(shorter)) if longer[k] != shorter[k]), len(shorter))
    return longer[:k] + longer[k + 1:] == shorter and k < len(longer) - 2


def _same_word(written: str, forms: frozenset[str]) -> bool:
    """``written`` is one of ``forms``, or one typo away from one in a word of four letters or more."""
    if written in forms:
        return True
    return len(written) >= 4 and any(_one_typo(written, f) for f in forms)


def same_place(written: Sequence[str], forms: Sequence[frozenset[str]]) -> bool:
    """Whether the folded words ``written`` name the locality whose :func:`word_forms` are ``forms``:
    word for word, none left over on either side („Łososinie” is not „Łososina Dolna”)."""
    if len(forms) != len(written) and len(forms) == len(written) + 1 and forms[-1] & OPTIONAL_WORDS:
        forms = forms[:-1]
    return len(forms) == len(written) and all(_same_word(w, f) for w, f in zip(written, forms))


def same_as_written(written: Sequence[str], other: Sequence[str]) -> bool:
    """Whether two localities as written (say a line's and a register name's own „w …”) are one place."""
    return same_place(written, tuple(frozenset({w}) for w in other))


def is_qualifier(word: str) -> bool:
    """A word that turns a place's name into another place's: „Dolna”, „Wielkiej”, „Kolonia”, „Wola”…"""
    return any(word.startswith(s) and word[len(s):] in ("", *_ADJECTIVE_ENDINGS) for s in QUALIFIER_STEMS)


def is_adjective(word: str) -> bool:
    """A folded word shaped like a place-name adjective („Uszewska”, „Bocheńskim”)."""
    return any(word.endswith(f"{c}k{e}") for c in "sc" for e in _ADJECTIVE_ENDINGS if e not in ("e", "y"))


def town_of_adjective(word: str) -> str | None:
    """The town a folded adjective names („olkuskie” → "Olkusz"), None for other words."""
    for stem, town in TOWN_ADJECTIVES.items():
        if word.startswith(stem) and word[len(stem):] in _ADJECTIVE_ENDINGS:
            return town
    return None
