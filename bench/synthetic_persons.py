"""Synthetic person records for the persons register benchmark: many cultures and scripts.

What the records look like:

- ten naming cultures, weighted like a register fed by many members: Anglo,
  Hispanic (two surnames), French, German, Russian (given name, patronymic,
  surname; written in Cyrillic or in Latin letters by one of four
  romanisations: BGN/PCGN, the passport (ICAO) table, German, French),
  Arabic (given name, father's name, family name with or without the
  article; Latin spellings vary, Mohammed / Muhammad / Mohamed, al- / El /
  as-; or Arabic script), Chinese (pinyin, Wade-Giles or Cantonese forms, or
  Han characters), Korean (Latin with the usual variants, or Hangul),
  Japanese (romaji with long vowels written o, ou or oh, or katakana) and
  Greek (three romanisations, or Greek script). The shares are an invented
  approximation of the shape of an international register, not figures;
- given names and surnames drawn Zipf-like: a head of real common names
  (Mohammed, Wang, Kim and Smith are frequent), then a long tail of rarer
  surnames built from each culture's own parts (Hartley, Weinberger,
  Papadakis, Yamashita);
- a third of the records carry one to three aliases: the name in the other
  script, another romanisation, or another name altogether;
- dates of birth mostly full, some year and month or year only, a few
  missing or two; one or two nationalities; sex; a notice kind.

Determinism: persons come in chunks of :data:`CHUNK` from generators seeded
by ``(seed, chunk)``, so the same seed always gives the same persons, and the
first N persons of a larger run are the N persons of a smaller one.

Query variants (:func:`variant`) rewrite one person's name the ways names
differ between a record and a check: a typo, another romanisation, the parts
in another order, a dropped middle name, the other script, an initial, a
passenger list's ``SURNAME/GIVEN MR``.
"""

from __future__ import annotations

import bisect
import itertools
import random
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

AS_OF = date(2026, 1, 1)
"""The day the records are validated against (fixed, for determinism)."""
CHUNK = 10_000
"""Persons per seeded generator."""

VARIANT_KINDS = (
    "exact",
    "typo",
    "transliteration",
    "reordered",
    "dropped_middle",
    "other_script",
    "initial",
    "passenger_list",
)
"""How a query name may differ from the record's main name (see :func:`variant`)."""


# -- name elements and weighted pools ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Element:
    """One name part: its Latin spellings (the usual one first) and its native-script form."""

    latin: tuple[str, ...]
    native: str = ""

    @property
    def primary(self) -> str:
        return self.latin[0]


def _unique(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def latin_list(entries: str) -> list[Element]:
    """``"Smith Catherine/Katherine de_la_Cruz"``: spellings split by ``/``, ``_`` a space."""
    return [
        Element(_unique([v.replace("_", " ") for v in entry.split("/")]))
        for entry in entries.split()
    ]


def native_list(entries: str) -> list[Element]:
    """``"王=Wang/Wong 李=Li/Lee"``: the native form, then its Latin spellings."""
    elements = []
    for entry in entries.split():
        native, latin = entry.split("=")
        elements.append(Element(_unique([v.replace("_", " ") for v in latin.split("/")]), native))
    return elements


def words(text: str) -> list[str]:
    """The whitespace-separated words of ``text``."""
    return text.split()


def zipf(count: int, exponent: float = 1.0, offset: float = 1.0) -> list[float]:
    """Zipf-Mandelbrot weights of ranks 0..count-1, ``1 / (rank + offset) ** exponent``,
    summing to 1: a larger offset flattens the head (Smith is 1 % of Americans, not 10 %)."""
    weights = [1.0 / (rank + offset) ** exponent for rank in range(count)]
    total = sum(weights)
    return [w / total for w in weights]


class Pool:
    """Elements drawn Zipf-like by rank: the head in its written order (commonest first),
    then the tail shuffled in a fixed order, its ranks continuing the head's."""

    def __init__(
        self,
        head: Sequence[Element],
        tail: Sequence[Element] = (),
        offset: float = 8.0,
        exponent: float = 1.0,
    ) -> None:
        seen = {e.primary for e in head}
        rest = [e for e in tail if e.primary not in seen]
        random.Random(len(rest)).shuffle(rest)  # a fixed order: the same for every seed
        self.items: tuple[Element, ...] = (*head, *rest)
        self.cumulative = list(itertools.accumulate(zipf(len(self.items), exponent, offset)))

    def __len__(self) -> int:
        return len(self.items)

    def draw(self, rng: random.Random) -> Element:
        at = bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        return self.items[min(at, len(self.items) - 1)]


def combine(prefixes: Sequence[Element], suffixes: Sequence[Element]) -> list[Element]:
    """Every prefix with every suffix, Latin and native forms alike (a long tail)."""
    out = []
    for p, s in itertools.product(prefixes, suffixes):
        latin = _unique([a + b.lower() for a in p.latin for b in s.latin])
        out.append(Element(latin, p.native + s.native))
    return out


# -- romanisations ------------------------------------------------------------------------

_CYR_BASE = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "з": "z",
    "и": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "ы": "y",
    "э": "e",
    "ъ": "",
    "ь": "",
}
_CYR_SYSTEMS: dict[str, dict[str, str]] = {
    "bgn": {"е": "e", "ё": "yo", "ж": "zh", "й": "y", "х": "kh", "ц": "ts", "ч": "ch"}
    | {"ш": "sh", "щ": "shch", "ю": "yu", "я": "ya"},
    "icao": {"е": "e", "ё": "e", "ж": "zh", "й": "i", "х": "kh", "ц": "ts", "ч": "ch"}
    | {"ш": "sh", "щ": "shch", "ъ": "ie", "ю": "iu", "я": "ia"},
    "german": {"в": "w", "е": "e", "ё": "jo", "ж": "sch", "з": "s", "й": "j", "х": "ch"}
    | {"ц": "z", "ч": "tsch", "ш": "sch", "щ": "schtsch", "ю": "ju", "я": "ja"},
    "french": {"е": "e", "ё": "io", "ж": "j", "й": "i", "у": "ou", "х": "kh", "ц": "ts"}
    | {"ч": "tch", "ш": "ch", "щ": "chtch", "ю": "iou", "я": "ia"},
}
_CYR_VOWELS = set("аеёиоуыэюяъь")


def romanise_cyrillic(text: str, system: str) -> str:
    """One word in Cyrillic written in Latin letters by ``system`` (bgn, icao, german, french)."""
    table = _CYR_BASE | _CYR_SYSTEMS[system]
    word = text.lower()
    out: list[str] = []
    for i, ch in enumerate(word):
        before = word[i - 1] if i else ""
        after = word[i + 1 : i + 2]
        start = not before or before in _CYR_VOWELS or not before.isalpha()
        latin = table.get(ch, ch)
        if ch == "е" and start and system in ("bgn", "german"):
            latin = "ye" if system == "bgn" else "je"
        elif system == "german" and ch == "с" and before in _CYR_VOWELS and after in _CYR_VOWELS:
            latin = "ss"
        elif system == "german" and ch == "в" and not after and before in "oе":
            latin = "w"
        elif system == "french" and ch == "г" and after in ("е", "и", "ы"):
            latin = "gu"
        elif system == "french" and ch == "н" and not after and before == "и":
            latin = "ne"
        elif system == "french" and ch == "й" and not after and before in ("и", "ы"):
            latin = ""
        out.append(latin)
    result = "".join(out)
    return result[:1].upper() + result[1:]


def cyrillic(text: str) -> Element:
    """A Russian name part in Cyrillic, with its romanisations (BGN/PCGN first)."""
    systems = ("bgn", "icao", "german", "french")
    return Element(_unique([romanise_cyrillic(text, s) for s in systems]), text)


_GREEK_DIGRAPHS: dict[str, dict[str, str]] = {
    "elot": {"ου": "ou", "αυ": "av", "ευ": "ev", "γγ": "ng", "γκ": "gk", "γξ": "nx"},
    "phonetic": {"ου": "ou", "αυ": "av", "ευ": "ev", "γγ": "ng", "γκ": "g", "αι": "e"}
    | {"ει": "i", "οι": "i"},
    "classical": {"ου": "ou", "αυ": "au", "ευ": "eu", "γγ": "ng", "γκ": "gk", "αι": "ai"}
    | {"ει": "ei", "οι": "oi"},
}
_GREEK_LETTERS = {
    "α": "a",
    "β": "v",
    "γ": "g",
    "δ": "d",
    "ε": "e",
    "ζ": "z",
    "η": "i",
    "θ": "th",
    "ι": "i",
    "κ": "k",
    "λ": "l",
    "μ": "m",
    "ν": "n",
    "ξ": "x",
    "ο": "o",
    "π": "p",
    "ρ": "r",
    "σ": "s",
    "ς": "s",
    "τ": "t",
    "υ": "y",
    "φ": "f",
    "χ": "ch",
    "ψ": "ps",
    "ω": "o",
}
_GREEK_SYSTEM_LETTERS = {
    "elot": {},
    "phonetic": {"υ": "i", "χ": "h"},
    "classical": {"β": "b", "η": "e"},
}


def romanise_greek(text: str, system: str) -> str:
    """One Greek word in Latin letters (``elot`` 743, ``phonetic``, ``classical``)."""
    word = "".join(
        c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn"
    )
    letters = _GREEK_LETTERS | _GREEK_SYSTEM_LETTERS[system]
    digraphs = _GREEK_DIGRAPHS[system]
    out: list[str] = []
    i = 0
    while i < len(word):
        pair = word[i : i + 2]
        if pair in ("μπ", "ντ"):
            voiced = "b" if pair == "μπ" else "d"
            out.append(voiced if i == 0 else ("mp" if pair == "μπ" else "nt"))
            i += 2
        elif pair in digraphs:
            out.append(digraphs[pair])
            i += 2
        elif system == "phonetic" and word[i] == "γ" and word[i + 1 : i + 2] in ("ε", "ι", "η"):
            out.append("y")
            i += 1
        else:
            out.append(letters.get(word[i], word[i]))
            i += 1
    result = "".join(out)
    return result[:1].upper() + result[1:]


def greek(text: str) -> Element:
    """A Greek name part with its romanisations (ELOT 743 first)."""
    return Element(
        _unique([romanise_greek(text, s) for s in ("elot", "phonetic", "classical")]), text
    )


_WG_INITIALS = (
    ("zh", "ch"),
    ("ch", "ch"),
    ("sh", "sh"),
    ("b", "p"),
    ("d", "t"),
    ("g", "k"),
    ("j", "ch"),
    ("q", "ch"),
    ("x", "hs"),
    ("z", "ts"),
    ("c", "ts"),
    ("r", "j"),
)
_WG_FINALS = (("iong", "iung"), ("ong", "ung"), ("ian", "ien"), ("ie", "ieh"), ("ui", "uei"))


def wade_giles(syllable: str) -> str:
    """A pinyin syllable in (simplified) Wade-Giles: ``jian`` -> ``chien``, ``guo`` -> ``kuo``."""
    s = syllable.lower()
    initial, final = "", s
    for py, wg in _WG_INITIALS:
        if s.startswith(py):
            initial, final = wg, s[len(py) :]
            break
    for py, wg in _WG_FINALS:
        if final.endswith(py):
            final = final[: -len(py)] + wg
            break
    if final == "e" and initial in ("k", "h"):
        final = "o"
    if final == "i" and initial in ("ts", "s"):
        final = "u"
    return initial + final


# -- name data ------------------------------------------------------------------------------

ANGLO_MALE = latin_list(
    """James John Robert Michael William David Richard Joseph Thomas Charles Christopher
    Daniel Matthew Anthony Mark Donald Steven/Stephen Paul Andrew Joshua Kenneth Kevin Brian
    George Timothy Ronald Edward Jason Jeffrey/Geoffrey Ryan Jacob/Jakob Gary Nicholas/Nicolas
    Eric/Erik Jonathan Larry Justin Scott Brandon Benjamin Samuel Gregory Alexander Frank
    Patrick Raymond Jack Dennis/Denis Jerry Tyler Aaron Adam Nathan Henry Douglas Zachary
    Peter Kyle Noah Ethan Jeremy Walter Christian Keith Roger Terry Austin Sean/Shawn/Shaun
    Gerald Carl/Karl Harold Dylan Arthur Lawrence/Laurence Jordan Jesse Bryan/Brian Bruce
    Gabriel Logan Alan/Allan/Allen Albert Wayne Randy Vincent Mason Roy Ralph Russell Bradley
    Philip/Phillip Eugene Liam Oliver Harry Callum Connor Declan"""
)
ANGLO_FEMALE = latin_list(
    """Mary Patricia Jennifer Linda Elizabeth/Elisabeth Barbara Susan Jessica Sarah/Sara Karen
    Lisa Nancy Betty Sandra Margaret Ashley Kimberly/Kimberley Emily Donna Michelle Carol/Carole
    Amanda Melissa Deborah/Debra Stephanie Dorothy Rebecca/Rebekah Sharon Laura Cynthia Amy
    Kathleen Angela Shirley Brenda Emma Anna Pamela Nicole Samantha Katherine/Catherine/Kathryn
    Christine Helen Rachel Carolyn Janet Maria Heather Diane Olivia Julie Joyce Victoria Ruth
    Virginia Lauren Kelly/Kelley Christina Joan Evelyn Judith Andrea Hannah Megan/Meghan Cheryl
    Jacqueline Martha Madison Teresa/Theresa Gloria Janice Ann/Anne Abigail Sophia/Sofia
    Frances Jean Alice Judy Isabella Julia Grace Amber Denise Danielle Marilyn Beverly
    Charlotte Natalie Diana Brittany Doris Kayla Alexis Lori Marie Chloe Siobhan Aoife"""
)
ANGLO_SURNAMES = latin_list(
    """Smith/Smyth Johnson Williams Brown/Browne Jones Miller Davis Wilson Anderson Taylor
    Thomas Moore/More Martin Jackson Thompson/Thomson White Harris Clark/Clarke Lewis Robinson
    Walker Young Allen/Allan King Wright Scott Hill Green/Greene Adams Baker Nelson Hall
    Campbell Mitchell Carter Roberts Phillips/Philips Evans Turner Parker Collins Edwards
    Stewart/Stuart Morris Murphy Cook/Cooke Rogers Morgan Cooper Peterson Reed/Reid Bailey
    Bell Kelly Howard Cox Ward Richardson Watson Brooks Wood Bennett Gray/Grey Hughes Price
    Sanders Myers/Meyers Long Ross Foster Powell Jenkins Perry Russell Sullivan Fisher
    Henderson Coleman Simmons Patterson Jordan Reynolds Hamilton Graham/Graeme Wallace Cole
    West Stone Murray Ford Marshall Owens McDonald/MacDonald Harrison Kennedy Wells Hunt
    Palmer Black Robertson O'Brien/OBrien O'Connor/OConnor Walsh Byrne Ryan Doyle
    McCarthy/MacCarthy Davies Lloyd Griffiths Matthews/Mathews"""
)
ANGLO_TAIL = combine(
    latin_list(
        """Ash Black Brad Brook Cald Clay Craw Dun Fair Fen Gar Hart Haw Hol Kings Lang Mar
        Mid Mor Nor Pem Ram Red Ris Sal Shel Stan Sut Thorn Wes Whit Win Wood Al Bar Bel Cor
        Dal Ed Gil Hal Mil Pen Ros Stock"""
    ),
    latin_list(
        """ton ley ford field well wood by ham worth more bridge shaw combe den hurst ridge
        stead wick low land son man er ett"""
    ),
)

HISPANIC_MALE = latin_list(
    """José Juan Luis Carlos Jorge Manuel Antonio Francisco Miguel Pedro Alejandro Javier/Xavier
    Fernando Ricardo Rafael Diego Sergio Pablo Andrés Roberto Eduardo Raúl Héctor Mario Óscar
    Alberto Daniel David Jesús Ángel Gabriel Enrique Víctor Ramón Juan_Carlos José_Luis
    Juan_Pablo Luis_Fernando Julio Ignacio Rodrigo Arturo Gustavo Emilio Gonzalo Hugo Iván"""
)
HISPANIC_FEMALE = latin_list(
    """María Ana Carmen Laura Lucía Isabel Sofía Patricia Marta Elena Rosa Paula Cristina
    Guadalupe Verónica Gabriela Daniela Valentina Camila Mariana Andrea Alejandra Claudia
    Adriana Silvia Teresa Pilar Dolores Beatriz Natalia María_José María_del_Carmen Ana_María
    Juana Raquel Lorena Mónica Sandra Yolanda Inés Julia Victoria Ximena/Jimena"""
)
HISPANIC_SURNAMES = latin_list(
    """García Rodríguez/Rodrigues González/Gonzales Fernández/Fernandes López/Lopes Martínez
    Sánchez Pérez/Peres Gómez Martín Jiménez/Giménez/Ximénez Ruiz Hernández/Hernandes Díaz/Dias
    Moreno Álvarez/Alvares Muñoz Romero Alonso Gutiérrez Navarro Torres Domínguez
    Vázquez/Vásquez Ramos Gil Ramírez/Ramires Serrano Blanco Suárez/Soares Molina Morales
    Ortega Delgado Castro Ortiz Rubio Marín Sanz Núñez/Nunes Iglesias Medina Garrido Cortés
    Castillo Santos Lozano Guerrero Cano Prieto Méndez/Mendes Cruz Flores Herrera Peña León
    Márquez/Marques Cabrera Gallego Calvo Vidal Campos Reyes Vega Fuentes Carrasco Diez
    Aguilar Nieto Santana Pascual Herrero Montero Lorenzo Hidalgo Ibáñez Ferrer Durán Santiago
    Benítez Mora Vargas Rojas Mendoza Silva Contreras Soto Espinoza/Espinosa Sandoval Cordero
    Ochoa de_la_Cruz/De_La_Cruz/Delacruz de_León/De_Leon del_Río/Del_Rio Valencia Zúñiga/Zuniga"""
)
HISPANIC_TAIL = combine(
    latin_list("Villa Monte Castel Val Fuen Al Bus Quin Ar Es Sal Mir Ber Car Sol Cas Pal Ros Gal"),
    latin_list(
        "nueva negro lanos dés tero amante calde aga ares edo illa ado ero ino ano ona eda era"
    ),
)

FRENCH_MALE = latin_list(
    """Jean Pierre Michel André Philippe René Louis Alain Jacques Bernard Marcel Daniel Roger
    Robert Paul Claude Christian Henri Georges Nicolas François Patrick Éric Laurent Frédéric
    Thierry Olivier Stéphane Julien Sébastien Guillaume Mathieu/Matthieu Antoine Jean-Pierre
    Jean-Claude Jean-Luc Yves Didier Pascal Gilles Hugo Lucas Théo Maxime"""
)
FRENCH_FEMALE = latin_list(
    """Marie Jeanne Françoise Monique Catherine Nathalie Isabelle Sylvie Anne Martine Christine
    Nicole Sophie Valérie Sandrine Stéphanie Céline Julie Aurélie Camille Émilie Léa Manon Chloé
    Marie-Claire Anne-Sophie Brigitte Chantal Véronique Hélène Élodie Inès Margaux/Margot"""
)
FRENCH_SURNAMES = latin_list(
    """Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel
    Lefebvre/Lefèvre/Lefeuvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet
    Dupont/Dupond Lambert Fontaine Rousseau Vincent Muller Faure André Mercier Blanc Guérin
    Boyer Garnier Chevalier/Chevallier François Legrand Gauthier/Gautier Perrin Robin Clément
    Morin Nicolas Henry Roussel Mathieu Masson Marchand Duval Denis Dumont Lemaire Noël Meyer
    Dufour Meunier Brun Blanchard Giraud Joly Rivière Lucas Brunet Gaillard Barbier Arnaud
    Gérard Roche Renard Schmitt Roy Leroux Colin Caron Picard Fabre Aubert Lemoine Renaud
    Dumas Lacroix Olivier Bourgeois Benoît Rey Leclerc/Leclercq Rolland Guillaume Lecomte
    Dupuy/Dupuis Guillot Hubert Berger Carpentier Moulin Deschamps Huet Vasseur Boucher Fleury
    Royer Klein Jacquet Poirier Marty Aubry Guyot Carré Renault Charpentier Ménard Maillard
    Baron Bertin Bailly Hervé Le_Gall/Legall Collet Léger Bouvier Prévost Perrot Le_Roux
    Germain Breton Besson Langlois Le_Goff/Legoff Pelletier Perrier Leblanc Lebrun Weber"""
)
FRENCH_TAIL = [
    Element(_unique([p.primary + s.primary, f"{p.primary} {s.primary.capitalize()}"]))
    for p, s in itertools.product(
        latin_list("Du De La Le Des Beau Mont Bel Ville"),
        latin_list(
            "bois pont mont champ val marais roche croix fontaine moulin pré chêne lac rivière "
            "bourg mas clos chastel noyer fossé four"
        ),
    )
]

GERMAN_MALE = latin_list(
    """Peter Michael Thomas Andreas Wolfgang Klaus Jürgen Günter/Günther Stefan/Stephan
    Christian Uwe Werner Horst Frank Dieter Manfred Gerhard Hans Bernd Torsten/Thorsten
    Markus/Marcus Matthias/Mathias Helmut/Helmuth Martin Jörg Heinz Sven Dirk Alexander Tobias
    Florian Jan Lukas/Lucas Maximilian Felix Jonas Leon Paul Karl-Heinz Hans-Peter Ralf/Ralph
    Rainer/Reiner Holger Jens Kai/Kay Timo Niklas/Nicklas"""
)
GERMAN_FEMALE = latin_list(
    """Ursula Monika Petra Elisabeth Sabine Renate Helga Karin Brigitte Ingrid Erika Andrea
    Gisela Claudia Susanne Gabriele Christa Christina Kerstin Marion Birgit Heike Anja
    Katharina Julia Lena Laura Anna Lea Hannah/Hanna Sophie/Sofie Marie Jana Nicole Stefanie
    Sandra Silke Tanja Doris Jutta"""
)
GERMAN_SURNAMES = latin_list(
    """Müller Schmidt/Schmitt/Schmid Schneider Fischer Weber Meyer/Meier/Mayer/Maier Wagner
    Becker Schulz/Schultz Hoffmann/Hofmann Schäfer Koch Bauer Richter Klein Wolf/Wolff
    Schröder Neumann Schwarz Zimmermann Braun Krüger Hartmann Lange Werner Schmitz Krause
    Lehmann Schulze Köhler Herrmann König Walter Huber Kaiser/Keiser Fuchs Peters Lang Scholz
    Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth
    Beck Lorenz Baumann Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin
    Schumacher Krämer Vogt Stein Jäger Otto Sommer Groß Seidel Heinrich Brandt Haas Schreiber
    Graf Schulte Dietrich Ziegler Kuhn/Kühn Pohl Engel Horn Busch Bergmann Voigt Sauer Arnold
    Pfeiffer/Pfeifer"""
)
GERMAN_TAIL = combine(
    latin_list(
        """Wein Rosen Stein Gold Silber Eisen Blumen Grün Schön Neu Alt Hoch Kirch Berg Wald
        Feld Lind Buch Eich Hirsch Kessel Mühl Brunn Holz Hof Engel Sonnen Schwarzen Lichten"""
    ),
    latin_list(
        """berg mann stein feld bach baum thal hof er dorf hausen hammer meier wald brunner
        müller bauer huber maier inger"""
    ),
)


def german_spellings(element: Element) -> Element:
    """Add the umlaut-free spellings a German name gets abroad (Müller: Mueller, Muller)."""
    out = list(element.latin)
    for spelling in element.latin:
        if any(c in spelling for c in "äöüÄÖÜß"):
            out.append(
                spelling.translate(
                    str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe"})
                    | str.maketrans({"Ü": "Ue", "ß": "ss"})
                )
            )
    return Element(_unique(out), element.native)


RUSSIAN_MALE = [
    cyrillic(n)
    for n in words(
        """Александр Сергей Дмитрий Андрей Алексей Владимир Иван Михаил Николай Евгений
    Юрий Олег Павел Виктор Игорь Роман Максим Артём Денис Антон Константин Владислав Вячеслав
    Анатолий Василий Пётр Григорий Борис Геннадий Валерий Станислав Илья Кирилл Никита Егор
    Тимур Руслан Вадим Леонид Фёдор Ярослав Георгий Аркадий Эдуард Семён"""
    )
]
RUSSIAN_FEMALE = [
    cyrillic(n)
    for n in words(
        """Елена Ольга Наталья Татьяна Ирина Светлана Анна Мария Екатерина Юлия Марина
    Галина Людмила Валентина Надежда Анастасия Оксана Дарья Ксения Вера Любовь Алина Виктория
    Полина Софья Елизавета Алёна Кристина Евгения Лариса Зоя Инна"""
    )
]
_RUSSIAN_SURNAMES = """Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков
    Фёдоров Морозов Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов
    Андреев Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв
    Сергеев Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков
    Сорокин Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров
    Давыдов Беляев Герасимов Богданов Осипов Сидоров Матвеев Титов Марков Миронов Крылов
    Куликов Карпов Власов Мельников Денисов Гаврилов Тихонов Казаков Афанасьев Данилов Савельев
    Тимофеев Фомин Чернов Абрамов Мартынов Ефимов Федотов Щербаков Назаров Калинин Исаев
    Чернышёв Быков Маслов Родионов Коновалов Лазарев Воронин Климов Филатов Пономарёв Голубев
    Кудрявцев Прохоров Наумов Потапов Журавлёв Овчинников Трофимов Леонов Соболев Ермаков
    Колесников Гончаров Емельянов Никифоров Грачёв Котов Гришин Ефремов Архипов Громов Кириллов
    Малышев Панов Моисеев Румянцев Акимов Кондратьев Бирюков Горбунов Анисимов Ерёмин Галкин
    Шевченко Коваленко Бондаренко Ткаченко Кравченко Ковальчук Мельник Островский Вишневский
    Жуковский Щукин Хрущёв Юдин Чайковский"""
RUSSIAN_SURNAMES = [cyrillic(n) for n in words(_RUSSIAN_SURNAMES)]
RUSSIAN_TAIL = [
    cyrillic(root + suffix)
    for root, suffix in itertools.product(
        words(
            """Берёз Горш Дуб Жар Зим Камен Лес Мох Рыб Снег Стрел Хлеб Чаш Шишк Бел Черн Крас Сед
        Глух Долг Кос Лыс Толст Хром Плот Пахом Сав Трош Ерш Лис Кот Бык Гус Лебед Ворон Дрозд
        Чиж Щегл Пескар Карас Сом Сазан Кедр Ольх Рябин Калин Малин Брусн"""
        ),
        ("ов", "ин", "ский", "енко", "ович"),
    )
]


def feminine_russian(surname: Element) -> Element:
    """Иванов -> Иванова, Островский -> Островская; -енко and -ович do not change."""
    text = surname.native
    if text.endswith("ский"):
        return cyrillic(text[:-2] + "ая")
    if text.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return cyrillic(text + "а")
    return surname


def patronymic(father: Element, sex: str) -> Element:
    """The patronymic from the father's given name: Сергей -> Сергеевич / Сергеевна."""
    name = father.native
    if name == "Илья":
        return cyrillic("Ильич" if sex == "M" else "Ильинична")
    if name == "Никита":
        return cyrillic("Никитич" if sex == "M" else "Никитична")
    if name.endswith(("й", "ь")):
        stem, male, female = name[:-1], "евич", "евна"
    else:
        stem, male, female = name, "ович", "овна"
    return cyrillic(stem + (male if sex == "M" else female))


ARABIC_MALE = native_list(
    """محمد=Mohammed/Muhammad/Mohamed/Mohammad/Mohamad/Muhammed أحمد=Ahmed/Ahmad/Ahmet
    علي=Ali/Aly عمر=Omar/Umar/Omer عبدالله=Abdullah/Abdallah/Abdulla/Abd_Allah/Abdellah
    حسن=Hassan/Hasan حسين=Hussein/Hussain/Husayn/Hossein/Husein خالد=Khalid/Khaled
    يوسف=Youssef/Yusuf/Yousef/Youssouf/Yousif إبراهيم=Ibrahim/Ebrahim/Brahim
    محمود=Mahmoud/Mahmud/Mahmood مصطفى=Mustafa/Moustafa/Mostafa/Mustapha
    سعيد=Said/Saeed/Saied عبدالرحمن=Abdul_Rahman/Abdelrahman/Abdulrahman/Abd_al-Rahman
    فيصل=Faisal/Faysal طارق=Tariq/Tarek/Tareq/Tarik ناصر=Nasser/Nasir/Naser
    جمال=Jamal/Gamal/Djamel كريم=Karim/Kareem سليمان=Suleiman/Sulayman/Soliman/Slimane
    عثمان=Othman/Uthman/Osman ياسين=Yassin/Yasin/Yacine/Yassine حمزة=Hamza/Hamzah
    بلال=Bilal/Belal زياد=Ziad/Ziyad وليد=Walid/Waleed عادل=Adel/Adil سامي=Sami/Samy
    هشام=Hisham/Hicham/Hesham منصور=Mansour/Mansur ماجد=Majid/Maged أنس=Anas
    عماد=Imad/Emad رشيد=Rashid/Rachid/Rasheed عبدالعزيز=Abdulaziz/Abdelaziz/Abdul_Aziz
    صالح=Saleh/Salih سلمان=Salman/Selman نبيل=Nabil/Nabeel أمين=Amin/Amine/Ameen
    مروان=Marwan جعفر=Jafar/Jaafar قاسم=Qasim/Kassem/Kasim/Qassem موسى=Musa/Moussa/Mousa
    عيسى=Issa/Isa/Eissa إسماعيل=Ismail/Ismael صلاح=Salah"""
)
ARABIC_FEMALE = native_list(
    """فاطمة=Fatima/Fatma/Fatimah/Fatema عائشة=Aisha/Aicha/Ayesha/Aysha مريم=Maryam/Mariam/Meriem
    زينب=Zainab/Zeinab/Zaynab خديجة=Khadija/Khadidja/Khadijah نور=Nour/Noor/Nur
    سارة=Sara/Sarah ليلى=Layla/Leila/Laila أمينة=Amina/Aminah هدى=Huda/Hoda/Houda
    ياسمين=Yasmin/Yasmine/Jasmin رانيا=Rania/Ranya سلمى=Salma/Selma هند=Hind/Hend
    دعاء=Doaa/Duaa آمنة=Amna/Amneh نادية=Nadia/Nadiya سميرة=Samira/Sameera
    رقية=Ruqayya/Roqaya/Rokia حليمة=Halima/Halimah منى=Mona/Muna هبة=Heba/Hiba
    إيمان=Iman/Eman/Imane لينا=Lina/Leena رحمة=Rahma/Rahmah"""
)
_ARABIC_FAMILIES = """+الخطيب=Khatib/Khateeb +الحسيني=Husseini/Hussaini +العلي=Ali
    +الشمري=Shammari/Shamari +العتيبي=Otaibi/Oteibi/Utaybi +القحطاني=Qahtani/Kahtani
    +الزهراني=Zahrani +الدوسري=Dosari/Dossary/Dawsari +الحربي=Harbi +المصري=Masri/Masry
    +البغدادي=Baghdadi +التميمي=Tamimi/Temimi +الجبوري=Jubouri/Jabouri/Jaburi
    +العبيدي=Obaidi/Ubaydi/Obeidi +الهاشمي=Hashimi/Hachemi/Hashemi +السيد=Sayed/Sayyid
    +الراشد=Rashid/Rasheed +النجار=Najjar/Naggar +الشريف=Sharif/Cherif +الأمين=Amin/Amine
    +الحكيم=Hakim/Hakeem خوري=Khoury/Khouri/Khuri حداد=Haddad/Hadad منصور=Mansour/Mansur
    عيسى=Issa/Eissa صالح=Saleh/Salih حمدان=Hamdan/Hamdane ناصر=Nasser/Nasir
    عثمان=Othman/Osman ياسين=Yassin/Yacine عباس=Abbas درويش=Darwish/Darwiche بكري=Bakri/Bakry
    +القرشي=Qureshi/Qurashi فاروق=Farouk/Farouq/Faruq زكي=Zaki/Zaky محمود=Mahmoud/Mahmud
    سليمان=Suleiman/Sulayman +الحسن=Hassan/Hasan +الأحمد=Ahmad/Ahmed +السعدي=Saadi/Saady
    +الكويتي=Kuwaiti +اليمني=Yemeni/Yamani +السوري=Suri/Souri +التونسي=Tunisi/Tounsi
    +المغربي=Maghribi/Maghrebi +الجزائري=Jazairi/Djazairi +الليبي=Libi +الحلبي=Halabi
    +الدمشقي=Dimashqi/Demashki +الموصلي=Mosuli/Mawsili +البصري=Basri/Basry +الكردي=Kurdi
    +الشامي=Shami +الأنصاري=Ansari/Ansary +القصاب=Qassab/Kassab +العطار=Attar
    +الزين=Zein/Zain +البيطار=Bitar/Bittar +التكريتي=Tikriti +الدليمي=Dulaimi/Dleimi
    +الجابري=Jabri/Jaberi +الشهري=Shehri/Shahri +الغامدي=Ghamdi +المطيري=Mutairi/Mteiri
    +العنزي=Anzi/Enezi/Anazi +السبيعي=Subaie +الرفاعي=Rifai/Refai +الأزهري=Azhari"""
_SUN_LETTERS = ("sh", "th", "dh", "t", "d", "r", "z", "s", "n")


def arabic_family(entry: str) -> Element:
    """``+الخطيب=Khatib/Khateeb``: ``+`` marks the article (al-, Al, El, as-...)."""
    article = entry.startswith("+")
    native, latin = entry.lstrip("+").split("=")
    stems = latin.split("/")
    if not article:
        return Element(tuple(stems), native)
    forms = [f"al-{stems[0]}", f"Al {stems[0]}", f"El {stems[0]}", f"Al{stems[0].lower()}"]
    forms += [f"el-{s}" for s in stems[1:]] + [f"Al-{s}" for s in stems[1:]]
    sun = next((c for c in _SUN_LETTERS if stems[0].lower().startswith(c)), None)
    if sun:
        forms.append(f"a{sun}-{stems[0]}")  # the article assimilated: as-Sayed, ash-Shammari
    return Element(_unique(forms), native)


ARABIC_FAMILIES = [arabic_family(e) for e in _ARABIC_FAMILIES.split()]
ARABIC_TAIL = [
    Element(_unique([f"{p} {v}" for p in prefixes for v in g.latin[:2]]), f"{native} {g.native}")
    for g in ARABIC_MALE
    for prefixes, native in ((("Abu", "Abou"), "أبو"), (("Ben", "Bin", "Ibn"), "بن"))
] + [Element(g.latin, g.native) for g in ARABIC_MALE]
BIN = Element(("bin", "ibn", "ben"), "بن")

CHINESE_SURNAMES = native_list(
    """王=Wang/Wong/Ong 李=Li/Lee/Lei 张=Zhang/Chang/Cheung/Teo 刘=Liu/Lau/Lao
    陈=Chen/Chan/Tan/Chin 杨=Yang/Yeung/Young 黄=Huang/Wong/Ng/Hwang 赵=Zhao/Chao/Chiu
    吴=Wu/Ng/Goh 周=Zhou/Chow/Chou 徐=Xu/Hsu/Tsui 孙=Sun/Suen 马=Ma/Mah 朱=Zhu/Chu/Chue
    胡=Hu/Woo/Hoo 郭=Guo/Kwok/Kuo 何=He/Ho 林=Lin/Lam/Lim 高=Gao/Kao/Ko 罗=Luo/Law/Lo
    郑=Zheng/Cheng/Tay 梁=Liang/Leung 谢=Xie/Hsieh/Tse 宋=Song/Sung 唐=Tang/Tong
    许=Xu/Hui/Hsu 韩=Han/Hon 冯=Feng/Fung 邓=Deng/Tang/Teng 曹=Cao/Tsao/Cho 彭=Peng/Pang
    曾=Zeng/Tsang/Tseng 肖=Xiao/Hsiao/Siu 田=Tian/Tien 董=Dong/Tung 潘=Pan/Poon/Phua
    袁=Yuan/Yuen 蔡=Cai/Tsai/Choi/Chua 蒋=Jiang/Chiang 余=Yu/Yue 于=Yu 杜=Du/Tu/To
    叶=Ye/Yip/Yeh 程=Cheng/Ching 魏=Wei/Ngai 苏=Su/So/Soh 丁=Ding/Ting 任=Ren/Yam/Jen
    沈=Shen/Sham 姚=Yao/Yiu 卢=Lu/Lo/Lou 姜=Jiang/Keung 崔=Cui/Tsui/Choi 钟=Zhong/Chung
    谭=Tan/Tam 陆=Lu/Luk 汪=Wang/Wong 范=Fan/Fam 金=Jin/Kam/Chin 石=Shi/Shek 廖=Liao/Liu
    贾=Jia/Chia 夏=Xia/Hsia/Ha 韦=Wei/Wai 付=Fu/Foo 方=Fang/Fong 白=Bai/Pai/Pak
    邹=Zou/Chow/Tsou 孟=Meng/Mang 熊=Xiong/Hung 秦=Qin/Chin/Chun 邱=Qiu/Yau/Chiu
    江=Jiang/Kong/Chiang 尹=Yin/Wan 薛=Xue/Hsueh/Sit 段=Duan/Tuen 雷=Lei/Lui 侯=Hou/Hau
    龙=Long/Lung 史=Shi/Sze 陶=Tao/To 黎=Li/Lai 贺=He/Ho 顾=Gu/Koo 毛=Mao/Mo 郝=Hao/Hok
    龚=Gong/Kung 邵=Shao/Shiu 万=Wan/Man 钱=Qian/Chin 严=Yan/Yim"""
)
CHINESE_SYLLABLES = native_list(
    """伟=wei 芳=fang 娜=na 敏=min 静=jing 丽=li 强=qiang 磊=lei 军=jun 洋=yang 勇=yong
    艳=yan 杰=jie 娟=juan 涛=tao 明=ming 超=chao 秀=xiu 霞=xia 平=ping 刚=gang 桂=gui
    英=ying 华=hua 玉=yu 建=jian 国=guo 文=wen 红=hong 海=hai 辉=hui 鹏=peng 宇=yu 浩=hao
    婷=ting 雪=xue 琳=lin 晨=chen 子=zi 欣=xin 怡=yi 佳=jia 俊=jun 嘉=jia 志=zhi 东=dong
    龙=long 斌=bin 波=bo 峰=feng 春=chun 梅=mei 兰=lan 燕=yan 萍=ping 玲=ling 晓=xiao
    小=xiao 金=jin 德=de 成=cheng 林=lin 飞=fei 亮=liang 新=xin 鑫=xin 宏=hong 昊=hao
    博=bo 凯=kai 睿=rui 轩=xuan 梓=zi 涵=han 萱=xuan 诗=shi 雨=yu 思=si 可=ke 然=ran
    泽=ze 天=tian 一=yi 诺=nuo 安=an 心=xin 振=zhen 永=yong 世=shi 立=li 光=guang 荣=rong"""
)

KOREAN_SURNAMES = native_list(
    """김=Kim/Gim 이=Lee/Yi/Rhee/I 박=Park/Pak/Bak 최=Choi/Choe/Choy 정=Jung/Jeong/Chung/Cheong
    강=Kang/Gang 조=Cho/Jo/Joe 윤=Yoon/Yun 장=Jang/Chang 임=Lim/Im/Rim 한=Han 오=Oh/O
    서=Seo/Suh/So 신=Shin/Sin 권=Kwon/Gwon 황=Hwang 안=Ahn/An 송=Song 류=Ryu/Yoo/Rhyu
    홍=Hong 전=Jeon/Jun/Chun 고=Ko/Go/Koh 문=Moon/Mun 손=Son/Sohn 양=Yang/Ryang 배=Bae/Pae
    백=Baek/Paik/Paek 허=Heo/Huh/Hur 남=Nam 노=Noh/Roh/No 하=Ha 곽=Kwak/Gwak 성=Sung/Seong
    차=Cha 주=Joo/Ju/Chu 우=Woo/U 구=Koo/Gu/Ku 민=Min 나=Na/Ra 유=Yoo/Yu/You"""
)
KOREAN_SYLLABLES = native_list(
    """민=Min 준=Jun/Joon 서=Seo/Suh 연=Yeon/Yun 지=Ji/Chi 현=Hyun/Hyeon 수=Su/Soo
    영=Young/Yeong/Yong 호=Ho 우=Woo/U 은=Eun/Un 혜=Hye/Hae 진=Jin/Chin 성=Sung/Seong
    재=Jae/Chae 동=Dong/Tong 하=Ha 윤=Yoon/Yun 정=Jung/Jeong 상=Sang 희=Hee/Hui
    경=Kyung/Gyeong 미=Mi 혁=Hyuk/Hyeok 태=Tae 석=Seok/Suk 철=Chul/Cheol 용=Yong
    주=Joo/Ju 원=Won 승=Seung 아=Ah/A 나=Na 유=Yu/Yoo 기=Ki/Gi 광=Kwang/Gwang
    명=Myung/Myeong 선=Sun/Seon 병=Byung/Byeong 규=Kyu/Gyu 도=Do 훈=Hoon/Hun 빈=Bin
    소=So 예=Ye 채=Chae 다=Da 인=In"""
)

JAPANESE_SURNAMES = native_list(
    """サトウ=Sato/Satou/Satoh スズキ=Suzuki タカハシ=Takahashi タナカ=Tanaka
    イトウ=Ito/Itou/Itoh ワタナベ=Watanabe ヤマモト=Yamamoto ナカムラ=Nakamura
    コバヤシ=Kobayashi カトウ=Kato/Katou/Katoh ヨシダ=Yoshida ヤマダ=Yamada ササキ=Sasaki
    ヤマグチ=Yamaguchi マツモト=Matsumoto イノウエ=Inoue キムラ=Kimura ハヤシ=Hayashi
    サイトウ=Saito/Saitou/Saitoh シミズ=Shimizu ヤマザキ=Yamazaki/Yamasaki モリ=Mori
    イケダ=Ikeda ハシモト=Hashimoto アベ=Abe イシカワ=Ishikawa ヤマシタ=Yamashita
    ナカジマ=Nakajima/Nakashima イシイ=Ishii オガワ=Ogawa マエダ=Maeda オカダ=Okada
    ハセガワ=Hasegawa フジタ=Fujita ゴトウ=Goto/Gotou/Gotoh コンドウ=Kondo/Kondou/Kondoh
    ムラカミ=Murakami エンドウ=Endo/Endou/Endoh アオキ=Aoki サカモト=Sakamoto
    フクダ=Fukuda オオタ=Ota/Oota/Ohta ニシムラ=Nishimura フジイ=Fujii カネコ=Kaneko
    オカモト=Okamoto フジワラ=Fujiwara ナカノ=Nakano ミウラ=Miura ハラダ=Harada
    ナカガワ=Nakagawa マツダ=Matsuda タケウチ=Takeuchi オノ=Ono タムラ=Tamura
    ナカヤマ=Nakayama ワダ=Wada イシダ=Ishida モリタ=Morita ウエダ=Ueda ハラ=Hara
    シバタ=Shibata サカイ=Sakai クドウ=Kudo/Kudou/Kudoh ヨコヤマ=Yokoyama
    ミヤザキ=Miyazaki ミヤモト=Miyamoto ウチダ=Uchida タカギ=Takagi アンドウ=Ando/Andou/Andoh
    シマダ=Shimada タニグチ=Taniguchi オオノ=Ono/Oono/Ohno タカダ=Takada マルヤマ=Maruyama
    イマイ=Imai コウノ=Kono/Kouno/Kohno フジモト=Fujimoto ムラタ=Murata タケダ=Takeda
    ウエノ=Ueno スギヤマ=Sugiyama マスダ=Masuda コヤマ=Koyama オオツカ=Otsuka/Ohtsuka
    ヒラノ=Hirano スガワラ=Sugawara クボ=Kubo マツイ=Matsui チバ=Chiba イワサキ=Iwasaki
    サクライ=Sakurai キノシタ=Kinoshita ノグチ=Noguchi マツオ=Matsuo キクチ=Kikuchi
    ノムラ=Nomura アライ=Arai"""
)
JAPANESE_TAIL = combine(
    native_list(
        """ヤマ=Yama ナカ=Naka タ=Ta キ=Ki モリ=Mori イシ=Ishi フジ=Fuji マツ=Matsu タカ=Taka
        ヒラ=Hira カワ=Kawa オカ=Oka コ=Ko シマ=Shima ニシ=Nishi ヒガシ=Higashi キタ=Kita
        ミナミ=Minami ウエ=Ue シモ=Shimo オオ=O/Oo/Oh ミヤ=Miya イケ=Ike ハシ=Hashi
        スギ=Sugi クロ=Kuro シラ=Shira アカ=Aka アオ=Ao カネ=Kane ホソ=Hoso ナガ=Naga"""
    ),
    native_list(
        """ダ=da タ=ta モト=moto ムラ=mura カワ=kawa ヤマ=yama シタ=shita サキ=saki ノ=no
        ハラ=hara イ=i キ=ki グチ=guchi シマ=shima ベ=be オ=o オカ=oka サワ=sawa タニ=tani
        ウチ=uchi"""
    ),
)
JAPANESE_MALE = native_list(
    """ヒロシ=Hiroshi タケシ=Takeshi マコト=Makoto アキラ=Akira ケンジ=Kenji ダイスケ=Daisuke
    ショウタ=Shota/Shouta/Shohta ユウキ=Yuki/Yuuki タロウ=Taro/Tarou/Taroh
    イチロウ=Ichiro/Ichirou/Ichiroh ケンタ=Kenta ショウ=Sho/Shou リョウ=Ryo/Ryou
    ユウタ=Yuta/Yuuta カズヤ=Kazuya タクヤ=Takuya ツヨシ=Tsuyoshi マサト=Masato
    ヒロユキ=Hiroyuki ナオキ=Naoki ユウスケ=Yusuke/Yuusuke コウジ=Koji/Kouji シンジ=Shinji
    テツヤ=Tetsuya ハルト=Haruto ソウタ=Sota/Souta レン=Ren ダイキ=Daiki"""
)
JAPANESE_FEMALE = native_list(
    """ヨウコ=Yoko/Youko ケイコ=Keiko ユウコ=Yuko/Yuuko アキコ=Akiko トモコ=Tomoko
    ヒロミ=Hiromi ユミ=Yumi マユミ=Mayumi サクラ=Sakura ハルカ=Haruka アヤ=Aya ミサキ=Misaki
    ナナ=Nana ユイ=Yui アイ=Ai メグミ=Megumi カナ=Kana ミホ=Miho エミ=Emi リナ=Rina
    ミユキ=Miyuki ナオミ=Naomi ユリ=Yuri マイ=Mai サチコ=Sachiko ヒナ=Hina"""
)

GREEK_MALE = [
    greek(n)
    for n in words(
        """Γεώργιος Δημήτριος Κωνσταντίνος Ιωάννης Νικόλαος Παναγιώτης Βασίλειος Χρήστος
    Αθανάσιος Μιχαήλ Ευάγγελος Σπυρίδων Αναστάσιος Θεόδωρος Ανδρέας Αντώνιος Εμμανουήλ Ηλίας
    Σταύρος Πέτρος Αλέξανδρος Στέφανος Κυριάκος"""
    )
]
GREEK_FEMALE = [
    greek(n)
    for n in words(
        """Μαρία Ελένη Αικατερίνη Βασιλική Σοφία Αγγελική Γεωργία Δήμητρα Κωνσταντίνα Άννα
    Παρασκευή Χριστίνα Ευαγγελία Ειρήνη Δέσποινα Αναστασία Θεοδώρα Χρυσούλα Ιωάννα
    Φωτεινή"""
    )
]
GREEK_SURNAMES = [
    greek(n)
    for n in words(
        """Παπαδόπουλος Παπαδάκης Παπαγεωργίου Οικονόμου Γεωργίου Καραγιάννης Νικολαΐδης
    Βλάχος Αντωνίου Δημητρίου Ιωάννου Μακρής Παππάς Κωνσταντίνου Παπανικολάου Αθανασίου
    Αλεξίου Μιχαηλίδης Χριστοδούλου Ευαγγέλου Πετρίδης Σταματόπουλος Αγγελόπουλος
    Κωνσταντινίδης Δημόπουλος Λαμπρόπουλος Ζαχαρίου Παναγιωτόπουλος Αναγνώστου Βασιλείου
    Γιαννόπουλος Κουτσούκος Μαυρίδης Σαββίδης"""
    )
]
GREEK_TAIL = [
    greek(r + s)
    for r, s in itertools.product(
        words(
            """Παπα Γεωργ Νικολ Αντων Δημητρ Κωνσταντ Καρα Μαυρ Λαμπρ Σταυρ Χατζη Βλαχ Μαργαρ
        Πετρ Φωτ Θεοδωρ Αλεξανδρ Σπυρ Τσακ Ζαφειρ"""
        ),
        ("όπουλος", "ίδης", "άκης", "άτος", "ίου"),
    )
]


def feminine_greek(surname: Element) -> Element:
    """Παπαδόπουλος -> Παπαδοπούλου (approximately: -ος -> -ου, -ης -> -η, -άς -> -ά)."""
    text = surname.native
    for male, female in (("ος", "ου"), ("ης", "η"), ("άς", "ά")):
        if text.endswith(male):
            return greek(text[: -len(male)] + female)
    return surname


# -- cultures -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Piece:
    """One part of a person's name in written (Latin) order."""

    role: str
    """``given``, ``middle``, ``patronymic``, ``particle``, ``father`` or ``surname``."""
    element: Element


Composer = Callable[[random.Random, str], tuple[Piece, ...]]


@dataclass(frozen=True)
class Culture:
    name: str
    share: float
    script: str
    """The culture's own script, "" for Latin-only cultures."""
    native_main: float
    """Share of records whose main name is written in that script."""
    nationalities: tuple[tuple[str, float], ...]
    compose: Composer
    native_joined: bool = False
    """Han and Hangul are written without spaces."""
    native_surname_first: bool = False
    """Japanese: surname first in kana, given name first in Latin letters."""


def _given(rng: random.Random, male: Pool, female: Pool, sex: str) -> Element:
    return (male if sex == "M" else female).draw(rng)


def _pools() -> dict[str, tuple[Pool, Pool, Pool]]:
    """Per culture: male given names, female given names, surnames. The offsets are chosen
    so that the commonest names have about their real shares (Smith about 2 % of Anglo
    surnames, Kim a fifth of Korean ones, Mohammed one Arab man in seven)."""
    german = [german_spellings(e) for e in GERMAN_SURNAMES]
    return {
        "anglo": (
            Pool(ANGLO_MALE),
            Pool(ANGLO_FEMALE),
            Pool(ANGLO_SURNAMES, ANGLO_TAIL, offset=10),
        ),
        "hispanic": (
            Pool(HISPANIC_MALE, offset=5),
            Pool(HISPANIC_FEMALE, offset=4),
            Pool(HISPANIC_SURNAMES, HISPANIC_TAIL, offset=6),
        ),
        "french": (
            Pool(FRENCH_MALE),
            Pool(FRENCH_FEMALE),
            Pool(FRENCH_SURNAMES, FRENCH_TAIL, offset=10),
        ),
        "german": (
            Pool([german_spellings(e) for e in GERMAN_MALE]),
            Pool([german_spellings(e) for e in GERMAN_FEMALE]),
            Pool(german, [german_spellings(e) for e in GERMAN_TAIL], offset=10),
        ),
        "russian": (
            Pool(RUSSIAN_MALE, offset=5),
            Pool(RUSSIAN_FEMALE, offset=5),
            Pool(RUSSIAN_SURNAMES, RUSSIAN_TAIL, offset=10),
        ),
        "arabic": (
            Pool(ARABIC_MALE, offset=2),
            Pool(ARABIC_FEMALE, offset=4),
            Pool(ARABIC_FAMILIES, ARABIC_TAIL, offset=8),
        ),
        "chinese": (
            Pool(CHINESE_SYLLABLES, offset=5),
            Pool(CHINESE_SYLLABLES, offset=5),
            Pool(CHINESE_SURNAMES, offset=3),
        ),
        "korean": (
            Pool(KOREAN_SYLLABLES, offset=5),
            Pool(KOREAN_SYLLABLES, offset=5),
            Pool(KOREAN_SURNAMES, offset=2, exponent=1.3),
        ),
        "japanese": (
            Pool(JAPANESE_MALE, offset=5),
            Pool(JAPANESE_FEMALE, offset=5),
            Pool(JAPANESE_SURNAMES, JAPANESE_TAIL, offset=10),
        ),
        "greek": (
            Pool(GREEK_MALE, offset=4),
            Pool(GREEK_FEMALE, offset=4),
            Pool(GREEK_SURNAMES, GREEK_TAIL, offset=10),
        ),
    }


POOLS = _pools()


def _western(culture: str, middle_share: float) -> Composer:
    male, female, surnames = POOLS[culture]

    def compose(rng: random.Random, sex: str) -> tuple[Piece, ...]:
        pieces = [Piece("given", _given(rng, male, female, sex))]
        if rng.random() < middle_share:
            middle = _given(rng, male, female, sex)
            if middle.primary != pieces[0].element.primary:
                pieces.append(Piece("middle", middle))
        pieces.append(Piece("surname", surnames.draw(rng)))
        return tuple(pieces)

    return compose


def _hispanic(rng: random.Random, sex: str) -> tuple[Piece, ...]:
    male, female, surnames = POOLS["hispanic"]
    pieces = [Piece("given", _given(rng, male, female, sex)), Piece("surname", surnames.draw(rng))]
    if rng.random() < 0.8:  # the mother's surname after the father's
        pieces.append(Piece("middle", surnames.draw(rng)))
    return tuple(pieces)


def _russian(rng: random.Random, sex: str) -> tuple[Piece, ...]:
    male, female, surnames = POOLS["russian"]
    surname = surnames.draw(rng)
    pieces = [Piece("given", _given(rng, male, female, sex))]
    if rng.random() < 0.7:
        pieces.append(Piece("patronymic", patronymic(male.draw(rng), sex)))
    pieces.append(Piece("surname", surname if sex == "M" else feminine_russian(surname)))
    return tuple(pieces)


def _arabic(rng: random.Random, sex: str) -> tuple[Piece, ...]:
    male, female, families = POOLS["arabic"]
    pieces = [Piece("given", _given(rng, male, female, sex))]
    if rng.random() < 0.65:
        if rng.random() < 0.2:
            pieces.append(Piece("particle", BIN))
        pieces.append(Piece("father", male.draw(rng)))
    if rng.random() < 0.9 or len(pieces) == 1:
        pieces.append(Piece("surname", families.draw(rng)))
    return tuple(pieces)


def _syllabic_given(
    rng: random.Random, pool: Pool, single: float, hyphen: bool, wade: bool
) -> Element:
    """A given name of one syllable (a share ``single`` of them) or two different ones."""
    syllables = [pool.draw(rng)]
    if rng.random() >= single:
        second = pool.draw(rng)
        while second.native == syllables[0].native:
            second = pool.draw(rng)
        syllables.append(second)
    native = "".join(s.native for s in syllables)
    firsts = [s.primary.lower() for s in syllables]
    joined = "".join(firsts).capitalize()
    hyphened = "-".join(firsts).capitalize()
    spaced = " ".join(f.capitalize() for f in firsts)
    forms = [hyphened, joined] if hyphen else [joined, hyphened]
    forms.append(spaced)
    if wade:
        forms.append("-".join(wade_giles(f) for f in firsts).capitalize())
    for s in syllables:  # other romanisations of each syllable
        for other in s.latin[1:]:
            swapped = [other.lower() if x is s else x.primary.lower() for x in syllables]
            forms.append("-".join(swapped).capitalize())
    return Element(_unique(forms), native)


def _chinese(rng: random.Random, _sex: str) -> tuple[Piece, ...]:
    given_pool, _, surnames = POOLS["chinese"]
    surname = surnames.draw(rng)
    return (
        Piece("surname", surname),
        Piece("given", _syllabic_given(rng, given_pool, 0.25, hyphen=False, wade=True)),
    )


def _korean(rng: random.Random, _sex: str) -> tuple[Piece, ...]:
    given_pool, _, surnames = POOLS["korean"]
    given = _syllabic_given(rng, given_pool, 0.05, hyphen=True, wade=False)
    return (Piece("surname", surnames.draw(rng)), Piece("given", given))


def _japanese(rng: random.Random, sex: str) -> tuple[Piece, ...]:
    male, female, surnames = POOLS["japanese"]
    return (Piece("given", _given(rng, male, female, sex)), Piece("surname", surnames.draw(rng)))


def _greek(rng: random.Random, sex: str) -> tuple[Piece, ...]:
    male, female, surnames = POOLS["greek"]
    surname = surnames.draw(rng)
    pieces = [Piece("given", _given(rng, male, female, sex))]
    if rng.random() < 0.15:  # the father's name in the genitive, as on Greek documents
        pieces.append(Piece("father", feminine_greek(male.draw(rng))))
    pieces.append(Piece("surname", surname if sex == "M" else feminine_greek(surname)))
    return tuple(pieces)


CULTURES: tuple[Culture, ...] = (
    Culture(
        "anglo",
        0.16,
        "",
        0.0,
        (("GB", 4), ("US", 5), ("IE", 1), ("AU", 1), ("CA", 1), ("NZ", 0.3)),
        _western("anglo", 0.45),
    ),
    Culture(
        "hispanic",
        0.14,
        "",
        0.0,
        (("ES", 3), ("MX", 4), ("CO", 2), ("AR", 1.5), ("PE", 1), ("VE", 1), ("CL", 0.8)),
        _hispanic,
    ),
    Culture(
        "french",
        0.07,
        "",
        0.0,
        (("FR", 6), ("BE", 1), ("CH", 0.5), ("CA", 0.5)),
        _western("french", 0.3),
    ),
    Culture("german", 0.07, "", 0.0, (("DE", 6), ("AT", 1), ("CH", 1)), _western("german", 0.35)),
    Culture(
        "russian",
        0.12,
        "Cyrillic",
        0.45,
        (("RU", 6), ("UA", 2), ("BY", 1), ("KZ", 1)),
        _russian,
    ),
    Culture(
        "arabic",
        0.20,
        "Arabic",
        0.3,
        (
            ("EG", 3),
            ("SA", 2),
            ("IQ", 2),
            ("SY", 2),
            ("MA", 2),
            ("DZ", 1.5),
            ("JO", 1),
            ("LB", 1),
            ("YE", 1),
            ("LY", 0.7),
            ("TN", 0.7),
            ("AE", 0.5),
            ("SD", 0.7),
        ),
        _arabic,
    ),
    Culture(
        "chinese",
        0.11,
        "Han",
        0.4,
        (("CN", 8), ("TW", 1), ("HK", 1), ("SG", 0.7), ("MY", 0.7)),
        _chinese,
        native_joined=True,
    ),
    Culture("korean", 0.04, "Hangul", 0.3, (("KR", 1),), _korean, native_joined=True),
    Culture("japanese", 0.04, "Kana", 0.25, (("JP", 1),), _japanese, native_surname_first=True),
    Culture("greek", 0.05, "Greek", 0.4, (("GR", 4), ("CY", 1)), _greek),
)
CULTURE_BY_NAME = {c.name: c for c in CULTURES}
_CULTURE_CUMULATIVE = list(itertools.accumulate(c.share for c in CULTURES))

NOTICE_KINDS = (
    ("red", 0.3),
    ("blue", 0.2),
    ("green", 0.1),
    ("yellow", 0.1),
    ("diffusion", 0.15),
    ("watchlist", 0.15),
)
CHARGES = (
    "murder",
    "armed robbery",
    "drug trafficking",
    "fraud",
    "money laundering",
    "people smuggling",
    "child sexual abuse",
    "terrorism offences",
)


# -- rendering ------------------------------------------------------------------------------


def render(
    culture: Culture,
    pieces: Sequence[Piece],
    native: bool,
    spell: Callable[[Element], str] | None = None,
) -> str:
    """The written name: in the culture's own script (``native``) or in Latin letters, each
    element spelled by ``spell`` (default: its usual spelling)."""
    if native:
        ordered = list(pieces)
        if culture.native_surname_first:
            ordered = [p for p in pieces if p.role == "surname"] + [
                p for p in pieces if p.role != "surname"
            ]
        sep = "" if culture.native_joined else " "
        return sep.join(p.element.native for p in ordered)
    spelling = spell or (lambda e: e.primary)
    return " ".join(spelling(p.element) for p in pieces)


@dataclass(frozen=True, slots=True)
class SyntheticPerson:
    """One generated person, with the structure that query variants need."""

    index: int
    culture: str
    sex: str
    pieces: tuple[Piece, ...]
    main_native: bool
    aliases: tuple[str, ...]
    born: date
    dates_of_birth: str
    """As the record states them (``;``-separated; may be empty)."""
    nationalities: tuple[str, ...]
    kind: str
    parts_marked: bool
    """The row gives the parts (given names, surname, patronymic) as well as the whole."""

    @property
    def key(self) -> str:
        return reference(self.index)

    @property
    def main_name(self) -> str:
        return render(CULTURE_BY_NAME[self.culture], self.pieces, self.main_native)

    @property
    def latin_name(self) -> str:
        return render(CULTURE_BY_NAME[self.culture], self.pieces, False)

    def row(self) -> dict[str, str]:
        """The load row (:data:`policenet.registers.persons.record.ROW_FIELDS`)."""
        row = {
            "reference": self.key,
            "kind": self.kind,
            "name": self.main_name,
            "aliases": ";".join(self.aliases),
            "dates_of_birth": self.dates_of_birth,
            "nationalities": ";".join(self.nationalities),
            "sex": self.sex,
        }
        if self.parts_marked:
            culture = CULTURE_BY_NAME[self.culture]
            surname, rest = _surname_pieces(self.pieces)
            row["surname"] = render(culture, surname, self.main_native)
            row["given_names"] = render(
                culture, [p for p in rest if p.role != "patronymic"], self.main_native
            )
            row["patronymic"] = " ".join(
                p.element.native if self.main_native else p.element.primary
                for p in rest
                if p.role == "patronymic"
            )
        if self.kind == "red":
            row["charges"] = CHARGES[self.index % len(CHARGES)]
            row["authority"] = "Investigating judge, synthetic court"
        elif self.kind == "watchlist":
            row["list_name"] = "Synthetic watchlist"
        return row


def reference(index: int) -> str:
    return f"PN-{index:09d}"


def _weighted(rng: random.Random, choices: Sequence[tuple[str, float]]) -> str:
    total = sum(w for _, w in choices)
    point = rng.random() * total
    for value, weight in choices:
        point -= weight
        if point < 0:
            return value
    return choices[-1][0]


def _respell(rng: random.Random, pieces: Sequence[Piece]) -> Callable[[Element], str] | None:
    """A spelling function choosing another spelling for some elements, or None when no
    element of ``pieces`` has another."""
    if not any(len(p.element.latin) > 1 for p in pieces):
        return None
    chosen: dict[int, str] = {}
    candidates = [p.element for p in pieces if len(p.element.latin) > 1]
    forced = rng.choice(candidates)
    for p in pieces:
        e = p.element
        if len(e.latin) > 1 and (e is forced or rng.random() < 0.5):
            chosen[id(e)] = rng.choice(e.latin[1:])

    return lambda e: chosen.get(id(e), e.primary)


def _birth(rng: random.Random) -> tuple[date, str]:
    age_days = int(rng.triangular(16, 80, 30) * 365.25)
    born = AS_OF - timedelta(days=age_days)
    precision = rng.random()
    if precision < 0.72:
        text = born.isoformat()
    elif precision < 0.77:
        text = born.isoformat()[:7]
    elif precision < 0.92:
        text = str(born.year)
    else:
        return born, ""
    if rng.random() < 0.03:  # sources disagree: a second date
        other = born + timedelta(days=rng.choice((-365, 365)))
        text += ";" + (other.isoformat() if len(text) == 10 else str(other.year))
    return born, text


class SyntheticRegister:
    """Persons for a seed (see the module docstring)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def persons(self, count: int, start_index: int = 0) -> Iterator[SyntheticPerson]:
        """The first ``count`` persons; ``start_index`` shifts their reference numbers only."""
        for chunk in range(0, (count + CHUNK - 1) // CHUNK):
            rng = random.Random(self.seed * 1_000_003 + chunk)
            for offset in range(min(CHUNK, count - chunk * CHUNK)):
                yield self._person(rng, start_index + chunk * CHUNK + offset)

    def _person(self, rng: random.Random, index: int) -> SyntheticPerson:
        at = bisect.bisect_right(_CULTURE_CUMULATIVE, rng.random() * _CULTURE_CUMULATIVE[-1])
        culture = CULTURES[min(at, len(CULTURES) - 1)]
        sex = "M" if rng.random() < 0.7 else "F"
        pieces = culture.compose(rng, sex)
        main_native = bool(culture.script) and rng.random() < culture.native_main
        aliases: list[str] = []
        if rng.random() < 0.33:
            for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
                aliases.append(self._alias(rng, culture, sex, pieces, main_native))
        main = render(culture, pieces, main_native)
        aliases = [a for a in dict.fromkeys(aliases) if a and a != main]
        born, dates = _birth(rng)
        nationalities = [_weighted(rng, culture.nationalities)]
        if rng.random() < 0.12:
            other = CULTURES[rng.randrange(len(CULTURES))]
            nationalities.append(_weighted(rng, other.nationalities))
        return SyntheticPerson(
            index=index,
            culture=culture.name,
            sex=sex,
            pieces=pieces,
            main_native=main_native,
            aliases=tuple(aliases),
            born=born,
            dates_of_birth=dates,
            nationalities=tuple(dict.fromkeys(nationalities)),
            kind=_weighted(rng, NOTICE_KINDS),
            parts_marked=not (main_native and culture.native_joined) and rng.random() < 0.5,
        )

    @staticmethod
    def _alias(
        rng: random.Random,
        culture: Culture,
        sex: str,
        pieces: Sequence[Piece],
        main_native: bool,
    ) -> str:
        roll = rng.random()
        if culture.script and roll < 0.4:
            return render(culture, pieces, not main_native)
        if roll < 0.65:
            spell = _respell(rng, pieces)
            if spell is not None:
                return render(culture, pieces, False, spell)
        # another name altogether; half the time the same surname
        other = culture.compose(rng, sex)
        if rng.random() < 0.5:
            surname = [p for p in pieces if p.role == "surname"]
            other = tuple(p for p in other if p.role != "surname") + tuple(surname)
        return render(culture, other, culture.script != "" and rng.random() < 0.3)


# -- query variants -----------------------------------------------------------------------------

_KEYBOARD = {
    c: n
    for row in ("qwertyuiop", "asdfghjkl", "zxcvbnm")
    for i, c in enumerate(row)
    for n in [row[max(i - 1, 0) : i] + row[i + 1 : i + 2]]
}
_ALPHABETIC = ("Latin", "Cyrillic", "Greek", "Arabic")


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)  # the first letter is rarely wrong
    kind = rng.choice(("substitute", "delete", "insert", "swap"))
    if kind == "delete":
        return word[:i] + word[i + 1 :]
    if kind == "insert":
        return word[:i] + word[i] + word[i:]
    if kind == "swap" and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    c = word[i]
    near = _KEYBOARD.get(c.lower(), "")
    pool = near or "".join(sorted(set(word) - {c})) or c
    new = rng.choice(pool)
    return word[:i] + (new.upper() if c.isupper() else new) + word[i + 1 :]


def _surname_pieces(pieces: Sequence[Piece]) -> tuple[list[Piece], list[Piece]]:
    surname = [p for p in pieces if p.role == "surname"]
    if pieces[0].role == "surname":  # Chinese, Korean: already surname first
        return surname, [p for p in pieces if p.role != "surname"]
    rest = [p for p in pieces if p.role != "surname"]
    # Hispanic: the mother's surname goes with the father's
    if surname and pieces[-1].role == "middle" and pieces[-2].role == "surname":
        surname.append(pieces[-1])
        rest = rest[:-1]
    return surname, rest


def variant(person: SyntheticPerson, kind: str, rng: random.Random) -> str | None:
    """The person's main name rewritten as ``kind`` (:data:`VARIANT_KINDS`), or None when
    that kind does not apply to this name (an initial of a name in Han characters)."""
    culture = CULTURE_BY_NAME[person.culture]
    pieces = person.pieces
    native = person.main_native
    script = culture.script if native else "Latin"
    if kind == "exact":
        return person.main_name
    if kind == "typo":
        if script not in _ALPHABETIC:
            return None
        written = person.main_name.split(" ")
        long = [i for i, w in enumerate(written) if len(w) >= 4 and w.isalpha()]
        if not long:
            return None
        at = rng.choice(long)
        written[at] = _typo(rng, written[at])
        return " ".join(written)
    if kind == "transliteration":
        spell = _respell(rng, pieces) if not native else None
        return render(culture, pieces, False, spell) if spell else None
    if kind == "reordered":
        if native and culture.native_joined:
            return None
        surname, rest = _surname_pieces(pieces)
        if not surname or not rest:
            return None
        if pieces[0].role == "surname":  # Chinese and Korean in Western order
            return render(culture, [*rest, *surname], native)
        front = render(culture, surname, native)
        back = render(culture, rest, native)
        style = rng.randrange(3)
        if style == 0:
            return f"{front} {back}"
        if style == 1:
            return f"{front.upper()}, {back}"
        return f"{front.upper()} {back.upper()}"
    if kind == "dropped_middle":
        middle = [i for i, p in enumerate(pieces) if p.role in ("middle", "patronymic", "father")]
        names = [p for p in pieces if p.role != "particle"]
        if not middle or len(names) < 3:
            return None
        drop = rng.choice(middle)
        kept = [
            p
            for i, p in enumerate(pieces)
            if i != drop and not (p.role == "particle" and i == drop - 1)
        ]
        return render(culture, kept, native)
    if kind == "other_script":
        if not culture.script:
            return None
        return render(culture, pieces, not native)
    if kind == "initial":
        if script not in ("Latin", "Cyrillic", "Greek"):
            return None
        given = next((i for i, p in enumerate(pieces) if p.role == "given"), None)
        if given is None or len([p for p in pieces if p.role != "particle"]) < 2:
            return None
        written = [render(culture, [p], native) for p in pieces]
        written[given] = written[given][0] + "."
        return " ".join(written)
    if kind == "passenger_list":
        if native:
            return None
        surname, rest = _surname_pieces(pieces)
        if not surname or not rest:
            return None
        title = "MR" if person.sex == "M" else rng.choice(("MRS", "MS"))
        forenames = render(culture, rest, False).upper()
        return f"{render(culture, surname, False).upper()}/{forenames} {title}"
    raise ValueError(f"unknown variant kind {kind!r}")
