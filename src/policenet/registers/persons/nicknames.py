"""Short forms of given names that officers meet on documents and in files.

Each group lists a given name first and the short forms and equivalents that
stand for it. Written for this project from common usage (English, German,
French, Spanish, Italian, Russian diminutives); extend a group rather than
adding fuzzy rules, so that a nickname hit can always be explained.
"""

from __future__ import annotations

_GROUPS = """
william bill billy will willy liam wilhelm guillaume guillermo
robert bob bobby rob robbie bert
richard rick ricky dick rich
james jim jimmy jamie
john johnny jack jon
jonathan jon jonny
joseph joe joey jose josef giuseppe
michael mike mikey mick mikhail misha
benjamin ben benny bibi
elizabeth liz lizzy beth betty eliza elisabeth
margaret maggie meg peggy marge
katherine kate katie kathy catherine kathryn katya ekaterina yekaterina
alexander alex sasha alexandr aleksandr alejandro alessandro
alexandra alex sasha alexandra aleksandra
anthony tony antonio anton
charles charlie chuck carlos karl carl
christopher chris kit
daniel dan danny
david dave davy
edward ed eddie ted teddy
francis frank frankie francisco francesco paco pancho
frederick fred freddy
friedrich fritz
theodore ted teddy theo
barack barry
henry harry hank heinrich enrique
jacob jake
lawrence larry laurence
matthew matt matthias mathieu
nicholas nick nicky nikolai nikolay nicolas
patrick pat paddy
peter pete pyotr pierre pedro pietro
samuel sam sammy
stephen steve steven stefan stephane esteban
thomas tom tommy
timothy tim timmy
vladimir vova volodya
dmitry dima dmitri
ivan vanya
sergey seryozha sergei serguei
yevgeny zhenya evgeny eugene
mohammed mo
abdullah abdallah
ibrahim abraham
yusuf joseph yosef
sulaiman suleiman solomon
musa moses moshe
isa jesus
maria mary marie mariya masha
anna anne ann anya
natalia natasha natalya
"""


def _table() -> dict[str, frozenset[int]]:
    groups: dict[str, set[int]] = {}
    for number, line in enumerate(filter(None, (ln.split() for ln in _GROUPS.splitlines()))):
        for name in line:
            groups.setdefault(name, set()).add(number)
    return {name: frozenset(ids) for name, ids in groups.items()}


_TABLE = _table()


def same_person_name(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` (lower-case ASCII) are in one group of the table."""
    ga, gb = _TABLE.get(a), _TABLE.get(b)
    return bool(ga and gb and ga & gb)
