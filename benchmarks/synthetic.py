"""A realistic synthetic catalogue of any size, with known duplicates and near misses.

Courses get French titles built from real-looking parts, organisations from a list of
French institutions (written several ways, as platforms do), one to three sessions, and
listings on several platforms. A known share of courses is published on a second platform
with the variations platforms really introduce (case, punctuation, accents, a subtitle, the
organisation's other name); another share has near misses that must stay apart (part 1 /
part 2, the same title by another organisation, the same title at another level).
``truth`` maps each listing to the course it belongs to, for evaluation.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pipelines.normalise.topics import taxonomy
from pipelines.records import CourseRecord, SessionRecord
from storage.matching import fold, organisation_key

OPENINGS = [
    "Introduction à",
    "Initiation à",
    "Les fondamentaux de",
    "Comprendre",
    "Maîtriser",
    "Découvrir",
    "Approfondir",
    "Bases de",
    "Pratique de",
    "Enjeux de",
    "Histoire de",
    "Méthodes de",
    "Outils pour",
    "Principes de",
    "Panorama de",
]
SUBJECTS = [
    "la statistique",
    "la programmation Python",
    "la gestion de projet",
    "l'intelligence artificielle",
    "la cybersécurité",
    "la comptabilité",
    "la finance d'entreprise",
    "l'épidémiologie",
    "la biodiversité",
    "la transition énergétique",
    "la philosophie politique",
    "le droit des contrats",
    "la physique quantique",
    "l'analyse de données",
    "la bioinformatique",
    "le marketing digital",
    "la pédagogie numérique",
    "la sociologie urbaine",
    "l'économie circulaire",
    "la nutrition",
    "les réseaux informatiques",
    "le développement web",
    "la chimie organique",
    "l'astronomie",
    "la psychologie sociale",
    "le management d'équipe",
    "la logistique",
    "l'éthique de la recherche",
    "la santé publique",
    "la langue des signes",
    "l'entrepreneuriat",
    "la géopolitique",
    "le machine learning",
    "les bases de données",
    "la robotique",
    "le droit du travail",
    "la communication scientifique",
    "l'archéologie",
    "la génétique",
    "les mathématiques discrètes",
]
QUALIFIERS = [
    "",
    "",
    "",
    "pour les débutants",
    "appliquée à la santé",
    "en pratique",
    "pour tous",
    "dans l'entreprise",
    "et société",
    "au quotidien",
    "pour enseignants",
    "avec R",
    "avancée",
    "et innovation",
    "en Europe",
    "pour les professionnels",
]
# (canonical name, other names platforms use)
ORGANISATIONS = [
    ("Université Paris 1 Panthéon-Sorbonne", ["Paris 1", "Univ. Paris 1", "Université Paris 1"]),
    ("Université de Bordeaux", ["Univ. Bordeaux", "Université Bordeaux"]),
    ("Conservatoire national des arts et métiers", ["Cnam", "CNAM", "Le Cnam"]),
    ("Inria", ["INRIA", "Institut national de recherche en informatique et en automatique"]),
    ("Institut Mines-Télécom", ["IMT", "Institut Mines Telecom"]),
    ("Sorbonne Université", ["Sorbonne Universite"]),
    ("CentraleSupélec", ["Centrale Supélec", "CentraleSupelec"]),
    ("Université de Lorraine", ["Univ. Lorraine"]),
    ("Université Grenoble Alpes", ["UGA", "Univ. Grenoble Alpes"]),
    ("Sciences Po", ["Sciences Po Paris", "Institut d'études politiques de Paris"]),
    ("École polytechnique", ["Ecole polytechnique", "l'X"]),
    ("Université de Montpellier", ["Univ. Montpellier"]),
    ("AgroParisTech", ["Agro Paris Tech"]),
    ("CNED", ["Centre national d'enseignement à distance"]),
    ("Université Paris-Saclay", ["Paris-Saclay", "Université Paris Saclay"]),
    ("Université de Lyon", ["Univ. Lyon"]),
    ("Université Côte d'Azur", ["UCA", "Université Cote d'Azur"]),
    ("Centrale Lille", ["École Centrale de Lille"]),
    ("Université de Strasbourg", ["Unistra", "Univ. Strasbourg"]),
    ("Université de Nantes", ["Nantes Université"]),
    ("OpenClassrooms", []),
    ("ANSSI", ["Agence nationale de la sécurité des systèmes d'information"]),
    ("Université de Rennes", ["Univ. Rennes"]),
    ("Institut Pasteur", []),
    ("Université Toulouse Capitole", ["Toulouse 1 Capitole"]),
]
# subtopics, as classification gives them (their parents come with them in the portal)
TOPIC_SLUGS = sorted(slug for slug, entry in taxonomy().items() if entry["parent"])
PLATFORMS = [
    ("fun_mooc", "https://www.fun-mooc.fr/fr/cours/{slug}/"),
    (
        "mon_compte_formation",
        "https://www.moncompteformation.gouv.fr/espace-prive/html/#/formation/recherche/{id}",
    ),
    ("openclassrooms", "https://openclassrooms.com/fr/courses/{id}-{slug}"),
    ("udemy", "https://www.udemy.com/course/{slug}/"),
    ("edx", "https://www.edx.org/learn/{slug}"),
    ("coursera", "https://www.coursera.org/learn/{slug}"),
]
LEVELS = ["debutant", "intermediaire", "avance", None]


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join("".join(c if c.isalnum() else " " for c in text).split())


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@dataclass
class Catalogue:
    entries: list[tuple[CourseRecord, dict]] = field(default_factory=list)
    truth: dict[tuple[str, str], int] = field(default_factory=dict)  # listing -> course number
    duplicate_pairs: list[tuple[tuple[str, str], tuple[str, str]]] = field(default_factory=list)
    near_miss_pairs: list[tuple[tuple[str, str], tuple[str, str]]] = field(default_factory=list)


class Generator:
    def __init__(self, seed: int = 0, now: datetime | None = None):
        self.random = random.Random(seed)
        self.now = now or datetime(2026, 11, 15, tzinfo=UTC)
        self.next_id = 0
        self.used: set[tuple[str, str]] = set()  # (folded title, organisation) already listed

    def _id(self) -> str:
        self.next_id += 1
        return f"{self.next_id:07d}"

    def title(self) -> str:
        r = self.random
        parts = [r.choice(OPENINGS), r.choice(SUBJECTS), r.choice(QUALIFIERS)]
        return " ".join(p for p in parts if p).replace("à le ", "au ").replace("de le ", "du ")

    def sessions(self, external_id: str) -> list[SessionRecord]:
        r = self.random
        out = []
        if r.random() < 0.15:
            return [SessionRecord(key=f"{external_id}-open", pace="self_paced", language="fr")]
        for number in range(r.randint(1, 3)):
            start = self.now + timedelta(days=r.randint(-700, 300) + 180 * number)
            out.append(
                SessionRecord(
                    key=f"{external_id}-{number}",
                    start=start,
                    end=start + timedelta(weeks=r.randint(3, 12)),
                    enrolment_start=start - timedelta(days=r.randint(20, 60)),
                    enrolment_end=start + timedelta(days=r.randint(0, 20)),
                    pace="scheduled",
                    language="fr",
                    price=0.0 if r.random() < 0.7 else float(r.choice([49, 99, 150, 390])),
                    currency="EUR",
                )
            )
        return out

    def listing(
        self,
        platform: str,
        title: str,
        organisation: str,
        level,
        course_no: int,
        catalogue: Catalogue,
        introduction: str | None = None,
    ) -> tuple[str, str]:
        external_id = self._id()
        pattern = dict(PLATFORMS)[platform]
        sessions = self.sessions(external_id)
        # what the portal filters on besides titles: drawn from their own generator, so
        # the titles, organisations and pairs above stay what they were
        extra = random.Random(f"attributes-{external_id}")
        prices = [s.price for s in sessions if s.price is not None]
        record = CourseRecord(
            platform=platform,
            external_id=external_id,
            url=pattern.format(slug=slugify(title)[:60], id=external_id),
            title=title,
            introduction=introduction or f"Un cours en ligne sur {title.lower()}.",
            language="fr",
            organisations=[organisation],
            level=level,
            topics=extra.sample(TOPIC_SLUGS, extra.choice([0, 1, 1, 2])),
            free=(min(prices) == 0) if prices else None,
            certificate=extra.choice(["none", "attestation", "certificate", "diploma", None]),
            sessions=sessions,
        )
        catalogue.entries.append((record, {"id": external_id, "synthetic": True}))
        key = (platform, external_id)
        catalogue.truth[key] = course_no
        self.used.add((fold(title), organisation_key(organisation)))
        return key

    def variant(self, title: str) -> str:
        """The same title as another platform writes it."""
        r = self.random
        choice = r.randrange(6)
        if choice == 0:
            return title.upper()
        if choice == 1:
            return strip_accents(title)
        if choice == 2:
            return title + r.choice([" (MOOC)", " - session 2027", " | formation en ligne"])
        if choice == 3:
            return title.replace("'", "’").replace(" à ", " a ")
        if choice == 4:
            return title[0].lower() + title[1:] + "."
        return "MOOC " + title

    def generate(
        self, listings: int, duplicate_share: float = 0.1, near_miss_share: float = 0.05
    ) -> Catalogue:
        """About ``listings`` listings; ``duplicate_share`` of courses on a second platform."""
        r = self.random
        catalogue = Catalogue()
        course_no = 0
        while len(catalogue.entries) < listings:
            course_no += 1
            title = self.title()
            canonical, aliases = r.choice(ORGANISATIONS)
            if (fold(title), organisation_key(canonical)) in self.used:
                title = f"{title} {100000 + course_no}"  # distinct, and not a year
            level = r.choice(LEVELS)
            platform = r.choice(PLATFORMS)[0]
            first = self.listing(platform, title, canonical, level, course_no, catalogue)
            roll = r.random()
            if roll < duplicate_share:
                other = r.choice([p for p, _ in PLATFORMS if p != platform])
                name = r.choice(aliases) if aliases and r.random() < 0.5 else canonical
                second = self.listing(other, self.variant(title), name, level, course_no, catalogue)
                catalogue.duplicate_pairs.append((first, second))
            elif roll < duplicate_share + near_miss_share:
                course_no += 1
                kind = r.randrange(3)
                if kind == 0:  # part 1 / part 2
                    catalogue.entries.pop()
                    del catalogue.truth[first]
                    first = self.listing(
                        platform, f"{title} – partie 1", canonical, level, course_no - 1, catalogue
                    )
                    second = self.listing(
                        platform, f"{title} – partie 2", canonical, level, course_no, catalogue
                    )
                elif kind == 1:  # same title, another organisation
                    free = [
                        o
                        for o, _ in ORGANISATIONS
                        if (fold(title), organisation_key(o)) not in self.used
                    ]
                    other_org = r.choice(free)
                    second = self.listing(
                        r.choice(PLATFORMS)[0], title, other_org, level, course_no, catalogue
                    )
                else:  # same title, another level
                    levels = [lv for lv in LEVELS if lv and lv != level]
                    second = self.listing(
                        r.choice(PLATFORMS)[0],
                        title,
                        canonical,
                        r.choice(levels),
                        course_no,
                        catalogue,
                    )
                    if level is None:  # an unknown level cannot tell them apart: set it
                        record, raw = catalogue.entries[-2]
                        catalogue.entries[-2] = (
                            record.model_copy(update={"level": "debutant"}),
                            raw,
                        )
                        if catalogue.entries[-1][0].level == "debutant":
                            record, raw = catalogue.entries[-1]
                            catalogue.entries[-1] = (
                                record.model_copy(update={"level": "avance"}),
                                raw,
                            )
                catalogue.near_miss_pairs.append((first, second))
        return catalogue


def generate(listings: int, seed: int = 0, **kwargs) -> Catalogue:
    return Generator(seed).generate(listings, **kwargs)


if __name__ == "__main__":
    import sys

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    cat = generate(size)
    for record, _raw in cat.entries[:size]:
        print(record.platform, record.external_id, record.title, "|", record.organisations[0])
    print(
        f"{len(cat.entries)} listings, {len(set(cat.truth.values()))} courses, "
        f"{len(cat.duplicate_pairs)} duplicate pairs, {len(cat.near_miss_pairs)} near misses"
    )
