"""Which ROME job profiles a French text prepares for, and why.

Texts and the referential are analysed the French way (accents folded, Snowball's French
stemmer, the project's stop words); software and programming-language names of the
referential (« Python », « C++ », « SAP », « Excel » for « Microsoft Excel ») become single
tokens matched as written, not stemmed. scikit-learn's ``TfidfVectorizer`` (sublinear TF,
IDF over the jobs) weighs the terms. A job's score for a text sums three channels:

- document: the cosine of the whole text (its heading repeated) with the job's document (its
  label, titles and synonyms, and the labels of its skills and knowledge items, a core one,
  ``coeur_metier`` « Principale », counted more);
- title: the best cosine of the text's heading with one of the job's titles or its label;
- items: the job's skills and knowledge items the text holds (most of their distinct terms
  present), each weighing its specificity (rarer across jobs, more), twice for a core one,
  over the length of the job's whole item vector;

then multiplied by a domain prior (jobs of the professional domain the text scores best come
first among close ones). A job none of whose items the text holds is not given (the page could
not say why). A text's jobs are those whose score passes a threshold and a share of the best
one's, at most five; the reasons of a link are the job's items most of whose TF-IDF weight the
text holds, most fully present first.
Everything is sparse-matrix algebra on a batch of texts, in process, so SQLite and PostgreSQL
get the same answers. The weights and thresholds are data (``PARAMETERS``), tuned on the
``tune`` split of benchmarks/data/jobs only (docs/JOBS.md, docs/BENCHMARKS.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import snowballstemmer
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from storage.models import RomeItem, RomeJob, RomeJobItem, RomeTitle

STOPWORDS_FILE = Path(__file__).with_name("data") / "french_stopwords.txt"
MAX_TEXT = 20_000  # characters of one text read; the rest is ignored
MAX_JOBS = 5
REASONS = 6  # matched items named per job

PARAMETERS = {
    "label_repeat": 3,  # a job's own label, this many times in its document
    "core_repeat": 2,  # a core skill (coeur_metier « Principale »), this many times
    "heading_repeat": 1,  # a course's title, categories and topics, this many times
    # a job's score: the weighted sum of three channels (tuned on the tune split only)
    "w_document": 1.0,  # cosine of the whole text with the job's whole document
    "w_title": 0.5,  # best cosine of the heading with one of the job's titles or its label
    "w_items": 0.5,  # the job's items the text holds, rolled up (core ones weigh core_weight)
    "core_weight": 2.0,
    "w_domain": 0.6,  # × (1 + this × the best score in the job's domain (M18…) / the best)
    "threshold": 0.345,  # a job's score must reach this
    "relative": 0.7,  # … and this share of the best job's
    "evidence": 1,  # 1: a job with no reason to give is not given
    "reason_found": 0.75,  # a reason: an item whose weight the text holds this share of
    "item_found": 0.75,  # an item is rolled up when the text holds this share of its terms
}
SOFTWARE_SUBCATEGORIES = ("Langages informatiques", "Logiciels, progiciels")
# words in front of a software or language name in the referential's labels
SOFTWARE_PREFIXES = re.compile(
    r"^(langage|programmation en|progiciel de gestion|framework|cms \([^)]*\)|"
    r"ide \([^)]*\)|syst[eè]me d'exploitation( informatique)?|utilisation de)\s+",
    re.IGNORECASE,
)
# a vendor's name in front of a product's: the product alone is matched too, as written
# (« Microsoft Excel » → « Excel »)
VENDORS = re.compile(r"^(Microsoft|Adobe|Google|Autodesk|IBM|Oracle|Apache)\s+(?=\S+$)")
SOFTWARE_NAME = re.compile(r"^[\w+#./-]+( [\w+#./-]+)?$")
WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'").replace("œ", "oe"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@cache
def _stopwords() -> frozenset[str]:
    lines = STOPWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(fold(line.strip()) for line in lines if line.strip() and line[0] != "#")


_STEMMER = snowballstemmer.stemmer("french")


@cache
def _stem(word: str) -> str:
    return fold(_STEMMER.stemWord(word))


def software_name(label: str) -> str | None:
    """« Programmation en Python » → « Python »; None for a label that is no product name."""
    name = SOFTWARE_PREFIXES.sub("", label.strip())
    name = re.sub(r"\s*\([^)]*\)\s*$", "", name)  # « Transact SQL (T-SQL) » → « Transact SQL »
    if not SOFTWARE_NAME.match(name) or name[0].islower() or len(name) > 20:
        return None
    return name


def _identity(terms: list[str]) -> list[str]:
    return terms


class Analyzer:
    """A text → its terms: software names as ``@name``, other words stemmed and folded."""

    def __init__(self, names: Sequence[str]):
        self.names = {}
        written = {}  # matched only as written, with their case
        for name in names:
            # one- and two-letter names (C, R) only as written, with their case
            self.names[name if len(name) <= 2 else fold(name)] = "@" + fold(name)
            alias = VENDORS.sub("", name)
            if alias != name and alias not in names:
                written[alias] = "@" + fold(name)
        ordered = sorted(self.names, key=len, reverse=True)
        short = [re.escape(n) for n in ordered if len(n) <= 2]
        short += [re.escape(n) for n in sorted(written, key=len, reverse=True)]
        self.names.update(written)
        long = [re.escape(n) for n in ordered if len(n) > 2]
        edge_before, edge_after = r"(?<![\w+#])", r"(?![\w+#]|\.\w)"
        self.long = re.compile(edge_before + "(" + "|".join(long) + ")" + edge_after)
        self.short = (
            re.compile(r"(?<![\w+#'’])(" + "|".join(short) + r")(?![\w+#'’]|\.\w)")
            if short
            else None
        )

    def __call__(self, text: str) -> list[str]:
        text = text[:MAX_TEXT]
        terms = []
        if self.short:
            terms += [self.names[m] for m in self.short.findall(text)]
        folded = fold(text)
        terms += [self.names[m] for m in self.long.findall(folded)]
        stop = _stopwords()
        for word in WORD.findall(folded):
            if len(word) > 1 and word not in stop and not word.isdigit():
                terms.append(_stem(word))
        return terms


@dataclass
class JobHit:
    code: str
    label: str
    score: float
    skills: list[str]


class JobMatcher:
    """The referential in use, indexed; ``match`` ranks jobs for texts."""

    def __init__(self, jobs, titles, items, job_items, parameters=None, titles_only=False):
        self.p = dict(PARAMETERS, **(parameters or {}))
        self.codes = [j[0] for j in jobs]
        self.labels = {j[0]: j[1] for j in jobs}
        column = {code: i for i, code in enumerate(self.codes)}
        names = {
            n
            for ogr, kind, label, sub in items
            if sub in SOFTWARE_SUBCATEGORIES
            for n in [software_name(label)]
            if n
        }
        self.analyzer = Analyzer(sorted(names))
        analysed: dict[str, list[str]] = {}

        def terms(label: str) -> list[str]:
            if label not in analysed:
                analysed[label] = self.analyzer(label)
            return analysed[label]

        # each job's document: its label, its titles, its items (core ones weigh more)
        documents: list[list[str]] = [terms(job[1]) * self.p["label_repeat"] for job in jobs]
        # its titles one by one (its label first), for the title channel
        title_rows: list[tuple[int, list[str]]] = [(column[job[0]], terms(job[1])) for job in jobs]
        for code, label in titles:
            if code in column:
                documents[column[code]] += terms(label)
                title_rows.append((column[code], terms(label)))
        item_label = {ogr: label for ogr, _kind, label, _sub in items}
        self.item_labels = sorted(set(item_label.values()))
        item_row = {label: i for i, label in enumerate(self.item_labels)}
        rows, cols, cores = [], [], []
        if not titles_only:
            for code, ogr, core in job_items:
                if code in column and ogr in item_label:
                    label = item_label[ogr]
                    repeat = self.p["core_repeat"] if core == "Principale" else 1
                    documents[column[code]] += terms(label) * repeat
                    rows.append(column[code])
                    cols.append(item_row[label])
                    cores.append(core == "Principale")
        # numpy, scipy and scikit-learn load here, not with the module: every crawl imports
        # the writer, and a crawl of a catalogue without ROME never needs them (2-3 s)
        import numpy as np
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import normalize

        self.vectorizer = TfidfVectorizer(
            analyzer=_identity, norm="l2", sublinear_tf=True, dtype=np.float32
        )
        self.job_terms = self.vectorizer.fit_transform(documents).T.tocsr()  # terms × jobs
        # the title channel: each title a row (terms × titles), and which job it names
        title_rows.sort(key=lambda row: row[0])
        self.title_terms = self.vectorizer.transform([t for _, t in title_rows]).T.tocsr()
        self.title_job = np.array([j for j, _ in title_rows], dtype=np.int64)
        self.title_start = np.searchsorted(self.title_job, np.arange(len(self.codes)))
        # the reasons: which of a job's items a text contains, by the share of the item's
        # distinct terms the text holds (each counts, also one of no job's document that the
        # vectorizer drops): a rare word alone does not find « Concevoir des modules de
        # formation » in a text on Python modules
        weights = self.vectorizer.transform([terms(label) for label in self.item_labels])
        # the reasons, as the links have always said them: an item whose TF-IDF weight the
        # text holds at least reason_found of
        self.reason_terms = weights.multiply(weights).T.tocsr()  # terms × items
        weights.data[:] = 1
        sizes = np.array([max(len(set(terms(label))), 1) for label in self.item_labels])
        self.item_terms = sparse.diags(1 / sizes.astype(np.float32)) @ weights
        self.item_terms = self.item_terms.T.tocsr()  # terms × items
        self.job_item = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)),
            shape=(len(self.codes), len(self.item_labels)),
        )
        self.job_item.sum_duplicates()
        self.job_item.data[:] = 1
        # the item channel: items × jobs, an item weighs its specificity (log of jobs over
        # the jobs holding it), a core one core_weight times more; each job's column unit length
        holders = np.asarray(self.job_item.sum(axis=0)).ravel()
        specific = np.log1p(len(self.codes) / np.maximum(holders, 1)).astype(np.float32)
        value = np.where(np.array(cores, dtype=bool), self.p["core_weight"], 1.0)
        value = (value * specific[np.array(cols, dtype=np.int64)]).astype(np.float32)
        rollup = sparse.csr_matrix(
            (value, (rows, cols)), shape=(len(self.codes), len(self.item_labels))
        )
        self.item_jobs = normalize(rollup, norm="l2").T.tocsr()  # items × jobs
        # each job's professional domain (M18), and the jobs ordered by domain
        self.domains = np.unique([code[:3] for code in self.codes], return_inverse=True)[1]
        self.domain_order = np.argsort(self.domains, kind="stable")
        self.domain_start = np.searchsorted(
            self.domains[self.domain_order], np.unique(self.domains)
        )

    @classmethod
    def from_engine(cls, engine: Engine, **options) -> JobMatcher | None:
        """The matcher of the loaded referential; None when none is loaded."""
        with engine.connect() as conn:
            return cls.from_connection(conn, **options)

    @classmethod
    def from_release(cls, release, **options) -> JobMatcher:
        """The matcher of a release read by ``storage.rome.read_release``, without a catalogue."""
        return cls(
            [(j["code"], j["label"]) for j in release.jobs],
            [(t["job_code"], t["label"]) for t in release.titles],
            sorted((i["ogr"], i["kind"], i["label"], i["subcategory"]) for i in release.items),
            [(r["job_code"], r["item_ogr"], r["core"]) for r in release.job_items],
            **options,
        )

    @classmethod
    def from_connection(cls, conn: Connection, **options) -> JobMatcher | None:
        jobs = [tuple(r) for r in conn.execute(select(RomeJob.code, RomeJob.label))]
        if not jobs:
            return None
        titles = [tuple(r) for r in conn.execute(select(RomeTitle.job_code, RomeTitle.label))]
        items = [
            tuple(r)
            for r in conn.execute(
                select(RomeItem.ogr, RomeItem.kind, RomeItem.label, RomeItem.subcategory).order_by(
                    RomeItem.ogr
                )
            )
        ]
        links = [
            tuple(r)
            for r in conn.execute(
                select(RomeJobItem.job_code, RomeJobItem.item_ogr, RomeJobItem.core)
            )
        ]
        return cls(jobs, titles, items, links, **options)

    def _query(self, texts: Sequence[tuple[str, str]]):
        """Each (heading, body) as a TF-IDF vector: the heading's terms repeated."""
        repeat = self.p["heading_repeat"]
        return self.vectorizer.transform(
            [self.analyzer(h or "") * repeat + self.analyzer(b or "") for h, b in texts]
        )

    def scores(self, texts: Sequence[tuple[str, str]]):
        """Each text's score for every job (dense, texts × jobs), and the items each holds
        (sparse, texts × items: the share of the item's weight present, at least reason_found)."""
        import numpy as np  # loaded by the constructor already

        p = self.p
        headings = [self.analyzer(h or "") for h, _ in texts]
        bodies = [self.analyzer(b or "") for _, b in texts]
        query = self.vectorizer.transform(
            [h * p["heading_repeat"] + b for h, b in zip(headings, bodies, strict=True)]
        )
        scores = (query @ self.job_terms).toarray() * p["w_document"]
        present = query.copy()
        present.data[:] = 1
        held = (present @ self.item_terms).tocsr()  # share of each item's terms present
        held.data = (held.data >= p["item_found"] - 1e-6).astype(held.dtype)
        held.eliminate_zeros()
        found = (present @ self.reason_terms).tocsr()  # share of each item's weight present
        found.data[found.data < p["reason_found"]] = 0
        found.eliminate_zeros()
        if p["w_title"]:
            heading = self.vectorizer.transform(headings)
            by_title = (heading @ self.title_terms).toarray()
            scores += p["w_title"] * np.maximum.reduceat(by_title, self.title_start, axis=1)
        if p["w_items"] and held.nnz:
            scores += p["w_items"] * (held @ self.item_jobs).toarray()
        if p["evidence"] and self.job_item.nnz:
            # none rather than one the page could not say why
            reasons = found.copy()
            reasons.data[:] = 1
            scores *= (reasons @ self.job_item.T).toarray() > 0
        if p["w_domain"]:
            # a job's score × (1 + w_domain × its domain's best / the best of all): jobs of
            # the domain the text is most about come first among jobs of close scores
            by_domain = scores[:, self.domain_order]
            best = np.maximum.reduceat(by_domain, self.domain_start, axis=1)  # texts × domains
            top = np.maximum(best.max(axis=1, keepdims=True), 1e-9)
            scores *= 1 + p["w_domain"] * (best / top)[:, self.domains]
        return scores, found

    def match(self, texts: Sequence[tuple[str, str]], top: int = MAX_JOBS) -> list[list[JobHit]]:
        """The jobs of each (heading, body), best first, at most ``top``, above the threshold."""
        if not texts:
            return []
        import numpy as np  # loaded by the constructor already

        scores, found = self.scores(texts)
        answers = []
        for i in range(len(texts)):
            row = scores[i]
            candidates = np.flatnonzero(row >= self.p["threshold"])
            if not len(candidates):
                answers.append([])
                continue
            best = row[candidates].max()
            keep = candidates[row[candidates] >= self.p["relative"] * best]
            keep = keep[np.argsort(-row[keep], kind="stable")][:top]
            items = found.indices[found.indptr[i] : found.indptr[i + 1]]
            shares = found.data[found.indptr[i] : found.indptr[i + 1]]
            answers.append([self._hit(j, float(row[j]), items, shares) for j in keep])
        return answers

    def _hit(self, job: int, score: float, items, shares) -> JobHit:
        """The job, with the items of it the text contains, the most fully present first."""
        import numpy as np  # loaded by the constructor already

        start, end = self.job_item.indptr[job], self.job_item.indptr[job + 1]
        mine = np.intersect1d(self.job_item.indices[start:end], items)
        share = dict(zip(items.tolist(), shares.tolist(), strict=True))
        order = sorted(mine.tolist(), key=lambda k: (-share[k], self.item_labels[k]))
        skills = [self.item_labels[k] for k in order[:REASONS]]
        code = self.codes[job]
        return JobHit(code, self.labels[code], round(score, 4), skills)
