"""Courses linked to ROME jobs: codes first, text second, overrides; in the writer too."""

from __future__ import annotations

import io
import json
import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, update

from storage import joblinks, readindex
from storage.db import ensure_schema, make_engine
from storage.jobmatch import JobMatcher
from storage.models import (
    Course,
    CourseFacet,
    CourseJob,
    CourseJobUnknown,
    FacetValue,
    Listing,
    Platform,
    RomeJob,
)
from storage.rome import load, read_release
from tests.conftest import replay_crawl


@pytest.fixture(scope="session")
def rome_template(tmp_path_factory):
    """A catalogue holding the shipped ROME snapshot, built once and copied by each test."""
    path = tmp_path_factory.mktemp("rome") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    ensure_schema(engine)
    load(engine, read_release())
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def matcher(rome_template):
    engine = make_engine(f"sqlite:///{rome_template}")
    try:
        return JobMatcher.from_engine(engine)
    finally:
        engine.dispose()


@pytest.fixture
def rome_url(rome_template, tmp_path):
    target = tmp_path / "catalogue.sqlite3"
    shutil.copy(rome_template, target)
    return f"sqlite:///{target}"


def _courses(engine, n):
    now = datetime.now(UTC)
    with engine.begin() as conn:
        return [
            conn.execute(
                insert(Course).values(title=f"c{i}", created_at=now, updated_at=now)
            ).inserted_primary_key[0]
            for i in range(n)
        ]


def _record(key, title, description="", codes=None, platform="fun_mooc"):
    return {
        "platform": platform,
        "external_id": key,
        "title": title,
        "description": description,
        "codes": codes or {},
    }


def test_codes_first_text_second_unknown_codes_aside_overrides_win(rome_url, matcher):
    engine = make_engine(rome_url)
    coded, unknown, text, nothing, forced = _courses(engine, 5)
    records = {
        coded: [_record("a", "Une formation", codes={"rome": ["M1203"]}, platform="lheo")],
        unknown: [_record("b", "Formation", codes={"rome": ["Z9999", "M1805"]}, platform="lheo")],
        text: [
            _record(
                "c",
                "Programmer en Python",
                "Algorithmique, programmation en Python, tests unitaires et bases de données SQL",
            )
        ],
        nothing: [_record("d", "Zorglub et Xylophène", "bla bla")],
        forced: [_record("e", "Zorglub et Xylophène, encore")],
    }
    rules = {"fun_mooc:e": {"A1204": "force"}, "fun_mooc:c": {"M1805": "forbid"}}
    with engine.begin() as conn:
        counts = joblinks.link(conn, records, matcher, rules=rules)
    assert counts.by_code == 2 and counts.unknown_codes == 1 and counts.unknown == ["Z9999"]
    with engine.connect() as conn:
        links = {}
        for row in conn.execute(select(CourseJob)):
            links.setdefault(row.course_id, {})[row.job_code] = row
        aside = conn.execute(select(CourseJobUnknown.course_id, CourseJobUnknown.code)).all()
    assert set(links[coded]) == {"M1203"} and links[coded]["M1203"].method == "code"
    assert set(links[unknown]) == {"M1805"}, "the unknown code is not linked"
    assert aside == [(unknown, "Z9999")]
    by_text = links[text]
    assert 0 < len(by_text) <= 5 and "M1805" not in by_text, "forbidden by the override"
    assert all(link.method == "text" and link.score > 0 for link in by_text.values())
    assert all(link.job_code.startswith("M18") for link in by_text.values()), by_text
    reasons = {r for link in by_text.values() for r in link.reasons}
    assert "Programmation en Python" in reasons
    assert nothing not in links, "no job rather than a wrong one"
    assert links[forced]["A1204"].method == "override"


def test_the_same_text_gives_the_same_jobs_alone_or_in_a_batch(matcher):
    texts = [("Comptabilité générale", "bilan, compte de résultat, TVA"), ("Anglais", "")]
    alone = [matcher.match([t])[0] for t in texts]
    assert matcher.match(texts) == alone


def test_the_writer_links_the_courses_it_refreshes(rome_url):
    done = replay_crawl(rome_url, spider="lheo")
    assert done.returncode == 0, done.stderr
    engine = make_engine(rome_url)
    with engine.connect() as conn:
        links = conn.execute(
            select(Listing.title, Listing.record, CourseJob.job_code, CourseJob.method).join(
                CourseJob, CourseJob.course_id == Listing.course_id
            )
        ).all()
    by_title = {}
    for title, record, code, method in links:
        by_title.setdefault(title, {})[code] = method
        assert record["codes"]["formacode"] == ["31054"], "the feed's codes are on the record"
    accounting = by_title["Comptabilité générale - initiation"]
    assert accounting and set(accounting.values()) == {"text"}, "linked by its text (no ROME code)"
    # the read index counts the links the writer has just made: its job facet rows are there
    with engine.connect() as conn:
        assert readindex.check(conn) == []
        rows = _facet_rows(conn, "job")
        assert any(set(accounting) == values for values in rows.values()), rows


def _facet_rows(conn, name: str) -> dict[int, set[str]]:
    """{course id: its values of one facet}, as the read index stores them."""
    out: dict[int, set[str]] = {}
    for course_id, value in conn.execute(
        select(CourseFacet.course_id, FacetValue.value)
        .join(FacetValue, FacetValue.id == CourseFacet.value_id)
        .where(FacetValue.facet == name)
    ):
        out.setdefault(course_id, set()).add(value)
    return out


# -- moisson jobs ---------------------------------------------------------------------------


def _jobs(capsys, *argv):
    from moisson.cli import main

    status = main(["jobs", *argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_moisson_jobs_answers_one_json_object_best_first(capsys, rome_url):
    status, out, _ = _jobs(
        capsys, "Développeur web : HTML, CSS, JavaScript et PHP", "--json", "--db", rome_url
    )
    assert status == 0
    jobs = json.loads(out)["jobs"]
    assert 0 < len(jobs) <= 5
    assert set(jobs[0]) == {"code", "label", "score", "skills"}
    assert [j["score"] for j in jobs] == sorted((j["score"] for j in jobs), reverse=True)
    assert "M1855" in [j["code"] for j in jobs[:3]], jobs  # Développeur / Développeuse web
    status, out, _ = _jobs(capsys, "comptabilité", "--json", "--top", "1", "--db", rome_url)
    assert len(json.loads(out)["jobs"]) <= 1


def test_moisson_jobs_on_hostile_text(capsys, rome_url):
    status, out, _ = _jobs(capsys, "zzzz qqqq wwww", "--json", "--db", rome_url)
    assert status == 0 and json.loads(out) == {"jobs": []}, "nothing close: an empty list"
    status, _, err = _jobs(capsys, " \t\x00\x1b ", "--db", rome_url)
    assert status == 2 and "give a text" in err
    status, out, _ = _jobs(capsys, "comptable\x00\x1b[31m\x07 général", "--json", "--db", rome_url)
    assert status == 0 and "M1203" in [j["code"] for j in json.loads(out)["jobs"]]
    huge = "comptabilité générale " * 100_000
    status, out, err = _jobs(capsys, huge, "--json", "--db", rome_url)
    assert status == 0 and "only the first" in err
    assert isinstance(json.loads(out)["jobs"], list)


def test_relink_links_every_course_and_keeps_going(capsys, rome_url):
    engine = make_engine(rome_url)
    ids = _courses(engine, 3)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        platform = conn.execute(insert(Platform).values(name="p")).inserted_primary_key[0]
        for i, (course_id, title) in enumerate(
            zip(
                ids,
                ["Comptabilité générale", "Programmer en Python", "Zorglub et Xylophène"],
                strict=True,
            )
        ):
            conn.execute(
                insert(Listing).values(
                    platform_id=platform,
                    external_id=str(i),
                    url="https://example.org",
                    title=title,
                    record={"platform": "p", "external_id": str(i), "title": title},
                    content_hash="x",
                    first_seen=now,
                    last_seen=now,
                    course_id=course_id,
                )
            )
    with engine.begin() as conn:
        readindex.rebuild(conn)  # visible courses, no job yet
        assert _facet_rows(conn, "job") == {}
    status, out, err = _jobs(capsys, "relink", "--json", "--db", rome_url)
    assert status == 0, err
    counts = json.loads(out)
    assert counts["courses"] == 3 and counts["by_text"] == 2 and counts["without_job"] == 1
    # the relink brought the job facets in step: rows equal to the links, db check agrees
    with engine.connect() as conn:
        links: dict[int, set[str]] = {}
        for course_id, code in conn.execute(select(CourseJob.course_id, CourseJob.job_code)):
            links.setdefault(course_id, set()).add(code)
        domains = {
            c: set(conn.scalars(select(RomeJob.domain).where(RomeJob.code.in_(codes))))
            for c, codes in links.items()
        }
        assert len(links) == 2 and _facet_rows(conn, "job") == links
        assert _facet_rows(conn, "domain") == domains
        assert readindex.check(conn) == []
    # a tampered job facet row is caught by `moisson db check`, and relink mends it
    course, codes = next(iter(links.items()))
    with engine.begin() as conn:
        job_values = select(FacetValue.id).where(
            FacetValue.facet == "job", FacetValue.value == min(codes)
        )
        conn.execute(
            CourseFacet.__table__.delete().where(
                CourseFacet.course_id == course, CourseFacet.value_id.in_(job_values)
            )
        )
    from moisson.cli import main

    assert main(["db", "check", "--db", rome_url]) == 1
    report = capsys.readouterr().out
    assert f"course {course}: computed facet value job={min(codes)} not stored" in report
    status, _, err = _jobs(capsys, "relink", "--json", "--db", rome_url)
    assert status == 0, err
    assert main(["db", "check", "--db", rome_url]) == 0


# -- storage.jobs: the portal's read queries -------------------------------------------------


def test_the_portal_queries(rome_url, matcher):
    from storage import jobs

    engine = make_engine(rome_url)
    accounting, other = _courses(engine, 2)
    with engine.begin() as conn:
        conn.execute(update(Course).values(visible=True))
        joblinks.link(
            conn,
            {
                accounting: [_record("a", "Comptabilité générale", "bilan, TVA, écritures")],
                other: [_record("b", "Tenue de la comptabilité", "", {"rome": ["M1203"]})],
            },
            matcher,
            rules={"fun_mooc:a": {"M1203": "force"}},
        )
    accountant = jobs.job(engine, "m1203")
    assert accountant["label"] == "Comptable" and accountant["domain"]["code"] == "M12"
    assert accountant["core_skills"] and accountant["titles"]
    assert accountant["attribution"] == "Source : France Travail, ROME 4.0 version 60"
    assert jobs.job(engine, "Z9999") is None
    of_job = jobs.courses_of_job(engine, "M1203", datetime.now(UTC))
    assert of_job["total"] == 2 and {c["id"] for c in of_job["courses"]} == {accounting, other}
    n = of_job["core_skills"]
    for course in of_job["courses"]:
        k = len(course["core_covered"])
        assert course["closeness"] == f"couvre {k} des {n} compétences clés"
    of_course = jobs.jobs_of_course(engine, accounting)
    assert of_course[0]["code"] == "M1203" and of_course[0]["method"] == "override"
    assert any(j["method"] == "text" and j["reasons"] for j in of_course[1:]), of_course
    assert "M1203" in [j["code"] for j in jobs.search_jobs(engine, "je veux devenir comptable")]
    assert jobs.search_jobs(engine, "data analyst")[0]["code"] == "M1419"
    assert jobs.search_jobs(engine, "   ") == []


def test_every_job_given_has_its_reasons_and_products_are_named_without_their_vendor(matcher):
    texts = [
        ("Excel : perfectionnement", "Tableaux croisés dynamiques et fonctions avancées"),
        ("Python : programmation objet", "Classes, héritage, modules et tests en Python"),
        ("Gestion de projet", "Cadrer, planifier et piloter un projet"),
        ("Le management", "Les théories et les pratiques du management"),
    ]
    answers = matcher.match(texts)
    assert any(answers), "these texts find jobs"
    for hits in answers:
        for hit in hits:
            assert hit.skills, f"{hit.code} given without a reason"
    # « Excel » is the referential's « Microsoft Excel »; the word in lower case is not
    assert "@microsoft excel" in matcher.analyzer("Excel : perfectionnement")
    assert "@microsoft excel" not in matcher.analyzer("un résultat excel-lent, excel")
    # an item is rolled up when most of its words are there, not its rarest one alone:
    # « Concevoir des modules de formation » is not held by a text on Python modules
    scores, _ = matcher.scores(texts[1:2])
    trainer = matcher.codes.index("K2101")  # Conseiller consultant en formation
    assert scores[0, trainer] < matcher.p["threshold"]


def test_the_matcher_is_built_once_per_release(rome_url, monkeypatch):
    built = []

    def build(cls, conn, **options):
        built.append(options)
        return object()

    monkeypatch.setattr(JobMatcher, "from_connection", classmethod(build))
    monkeypatch.setattr(joblinks, "_MATCHERS", {})
    engine = make_engine(rome_url)
    with engine.connect() as conn:
        first, again = joblinks.matcher_for(conn), joblinks.matcher_for(conn)
    assert first is again and len(built) == 1
    with engine.begin() as conn:  # another release loaded: another matcher
        from storage.models import RomeVersion

        conn.execute(update(RomeVersion).values(loaded_at=datetime.now(UTC)))
    with engine.connect() as conn:
        assert joblinks.matcher_for(conn) is not first and len(built) == 2


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_relink_progress_is_a_bar_on_a_terminal_and_silent_otherwise(rome_url):
    from moisson.progress import CommandProgress

    engine = make_engine(rome_url)
    _courses(engine, 3)
    for stream, shown in ((_Terminal(), True), (io.StringIO(), False)):
        calls = []
        with CommandProgress("Liens cours → métiers", stream=stream) as advance:

            def progress(done, total, advance=advance, calls=calls):
                calls.append((done, total))
                advance(done, total)

            joblinks.relink_all(engine, batch=2, progress=progress)
        assert calls == [(2, 3), (3, 3)]
        text = stream.getvalue()
        if shown:
            assert "Liens cours → métiers" in text and "3/3" in text
        else:
            assert text == "", "no terminal: nothing"
