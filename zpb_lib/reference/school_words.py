"""The words of school names as published lists and the register write them: abbreviations of school
types, the inflected forms of the types' words, fillers that tell no two schools apart, and the word
that tells each kind of school. Folded (lower case, no diacritics), as :func:`zpb_lib.core.text.fold`
leaves them. Shared by the matcher and ``zpb institutions find``.
"""
from __future__ import annotations

# Abbreviations as the police write them; several expansions where the abbreviation is ambiguous.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "sp": ("szkola podstawowa",),
    "psp": ("publiczna szkola podstawowa",),
    "nsp": ("niepubliczna szkola podstawowa",),
    "ssp": ("spoleczna szkola podstawowa",),
    "zs": ("zespol szkol",),
    "zso": ("zespol szkol ogolnoksztalcacych",),
    "zsp": ("zespol szkolno przedszkolny", "zespol szkol ponadgimnazjalnych", "zespol szkol ponadpodstawowych",
            "zespol szkol publicznych"),
    "zpo": ("zespol placowek oswiatowych",),
    "zps": ("zespol przedszkolno szkolny",),
    "zsg": ("zespol szkolno gimnazjalny", "zespol szkol gimnazjalnych"),
    "zsz": ("zespol szkol zawodowych",),
    "zss": ("zespol szkol specjalnych", "zespol szkol sportowych"),
    "zsi": ("zespol szkol integracyjnych",),
    "mzs": ("miejski zespol szkol",),
    "gzs": ("gminny zespol szkol",),
    "zse": ("zespol szkol ekonomicznych",),
    "zst": ("zespol szkol technicznych",),
    "zsr": ("zespol szkol rolniczych",),
    "zsme": ("zespol szkol mechaniczno elektrycznych",),
    "zsb": ("zespol szkol budowlanych",),
    "zsl": ("zespol szkol licealnych",),
    "zsms": ("zespol szkol mistrzostwa sportowego",),
    "zsoit": ("zespol szkol ogolnoksztalcacych i technicznych",),
    "zsoiz": ("zespol szkol ogolnoksztalcacych i zawodowych",),
    "zstio": ("zespol szkol technicznych i ogolnoksztalcacych",),
    "zszio": ("zespol szkol zawodowych i ogolnoksztalcacych",),
    "lo": ("liceum ogolnoksztalcace",),
    "plo": ("publiczne liceum ogolnoksztalcace",),
    "ckziu": ("centrum ksztalcenia zawodowego i ustawicznego",),
    "ckz": ("centrum ksztalcenia zawodowego",),
    "cku": ("centrum ksztalcenia ustawicznego",),
    "gim": ("gimnazjum",),
    "pg": ("publiczne gimnazjum",),
    "bs": ("branzowa szkola",),
    "sms": ("szkola mistrzostwa sportowego",),
    "sosw": ("specjalny osrodek szkolno wychowawczy",),
    "mow": ("mlodziezowy osrodek wychowawczy",),
    "mos": ("mlodziezowy osrodek socjoterapii",),
    "szk": ("szkola",),
    "podst": ("podstawowa",),
    "publ": ("publiczna",),
    "ogolnoksz": ("ogolnoksztalcace",),
    "tech": ("technikum",),
}
# Words of school types in the dative („Szkole Podstawowej”, „Zespołowi Szkół”), genitive („Szkoły
# Podstawowej”) or locative („w Zespole Szkół”), as published sentences put them, in the nominative.
TYPE_FORMS = {
    "szkole": "szkola", "szkoly": "szkola", "szkola": "szkola", "zespolowi": "zespol", "zespolu": "zespol",
    "zespole": "zespol", "podstawowej": "podstawowa", "ogolnoksztalcacemu": "ogolnoksztalcace",
    "ogolnoksztalcacego": "ogolnoksztalcace", "ogolnoksztalcacym": "ogolnoksztalcace", "publicznej": "publiczna",
    "publicznemu": "publiczne", "publicznego": "publiczne", "publicznym": "publiczne",
    "niepublicznej": "niepubliczna", "niepublicznemu": "niepubliczne", "spolecznej": "spoleczna",
    "branzowej": "branzowa", "zawodowej": "zawodowa", "policealnej": "policealna", "specjalnej": "specjalna",
    "specjalnemu": "specjalny", "specjalnego": "specjalny", "przedszkolnemu": "przedszkolny",
    "przedszkolnego": "przedszkolny", "przedszkolu": "przedszkole", "przedszkola": "przedszkole",
    "gimnazjalnemu": "gimnazjalny", "gimnazjalnego": "gimnazjalny", "osrodkowi": "osrodek", "osrodka": "osrodek",
    "wychowawczemu": "wychowawczy", "wychowawczego": "wychowawczy", "mlodziezowemu": "mlodziezowy",
    "mlodziezowego": "mlodziezowy", "miejskiemu": "miejski", "miejskiego": "miejski", "gminnemu": "gminny",
    "gminnego": "gminny", "katolickiej": "katolicka", "katolickiemu": "katolickie", "artystycznej": "artystyczna",
    "muzycznej": "muzyczna", "integracyjnej": "integracyjna", "sportowej": "sportowa",
}
# What a line says when it names no kind of school.
GENERIC_BODIES = frozenset({"szkola", "placowka", "placowka oswiatowa"})
# Words that, after „z”, begin no locality but a part of the school („z Oddziałami Integracyjnymi”).
NOT_PLACE_AFTER_Z = ("oddzial", "klas", "internat", "przedszkol", "filia", "filii", "siedzib", "grup", "basen")
# Words that end a locality: its municipality („gm. Łososina Dolna”) or a town near it („k. Bochni”)
# follows.
PLACE_END_WORDS = frozenset({"gm", "gmina", "gminie", "gminy", "k", "kolo", "obok"})
# Words that begin the name of a school type: what a town's adjective stands before („olkuskie Gimnazjum”).
TYPE_STARTS = frozenset({"szkola", "gimnazjum", "liceum", "technikum", "zespol", "centrum", "osrodek", "przedszkole",
                         "branzowa", "publiczna", "publiczne", "niepubliczna", "niepubliczne", "miejski", "gminny",
                         "specjalny", "mlodziezowy", "katolicka", "katolickie", "spoleczna", "prywatne"})
# Words spelled in several ways that mean the same.
ALIASES = {"imienia": "im", "numer": "nr", "no": "nr", "swietego": "sw", "swietej": "sw", "sw": "sw",
           "ksiedza": "ks", "generala": "gen", "kardynala": "kard", "blogoslawionego": "bl", "doktora": "dr",
           "profesora": "prof", "pulkownika": "plk", "majora": "mjr", "pw": "im"}
# Words that do not tell two schools apart (a „Publiczna Szkoła Podstawowa” is a „Szkoła Podstawowa”).
FILLERS = frozenset({"publiczna", "publiczne", "publiczny", "publicznych", "samorzadowa", "samorzadowe",
                     "samorzadowy", "samorzadowych", "z", "ze", "i", "oraz", "siedziba", "przy", "nr", "w", "we",
                     "dla"})
# Words before a Roman ordinal that still leave it in front of the school's kind („Prywatne II LO”).
ORDINAL_PREFIX = frozenset({"publiczne", "publiczna", "prywatne", "niepubliczne", "katolickie", "spoleczne"})
ADDRESS_WORDS = frozenset({"ul", "ulica", "ulicy", "al", "aleja", "os", "osiedle", "pl", "plac"})
COUNTY_WORDS = frozenset({"powiat", "pow", "powiecie", "powiatu"})
# The kind of school a body names, by its most telling word (first hit wins).
KIND_CLASSES: tuple[tuple[str, frozenset[str]], ...] = (
    ("complex", frozenset({"zespol"})),
    ("centre", frozenset({"centrum", "osrodek", "poradnia"})),
    ("university", frozenset({"uczelnia", "uniwersytet", "politechnika", "akademia", "wyzsza"})),
    ("general_secondary", frozenset({"liceum"})),
    ("technical", frozenset({"technikum"})),
    ("gimnazjum", frozenset({"gimnazjum"})),
    ("primary", frozenset({"podstawowa"})),
    ("vocational", frozenset({"branzowa", "zawodowa"})),
    ("post_secondary", frozenset({"policealna"})),
    ("preschool", frozenset({"przedszkole"})),
)
