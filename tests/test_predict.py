"""Predicted next sessions: a window when the history shows a cadence, nothing otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from portal.app import create_app
from portal.formatting import prediction_text
from storage.predict import WINDOW, predict, runs
from storage.readonly import open_readonly
from tests.test_alerts import _write, dated_course


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


SEPTEMBERS = [_day(f"{year}-09-1{year % 5}T08:00") for year in (2019, 2020, 2021, 2022)]


def test_a_yearly_course_is_expected_next_september():
    found = predict(SEPTEMBERS, _day("2023-03-01T00:00"))
    assert found is not None
    assert found["expected"].date().isoformat()[:7] == "2023-09"
    assert found["end"] - found["start"] == 2 * WINDOW
    assert found["evidence"]["sessions"] == 4
    assert found["evidence"]["first"] == SEPTEMBERS[0]
    assert prediction_text(found) == (
        "Prochaine session probable : septembre 2023 (d'après 4 sessions depuis 2019)"
    )


def test_twice_a_year_from_two_sessions():
    found = predict([_day("2025-02-01T00:00"), _day("2025-08-03T00:00")], _day("2025-10-01T00:00"))
    assert found is not None and found["expected"].strftime("%Y-%m") == "2026-02"


@pytest.mark.parametrize(
    "starts, now, why",
    [
        ([_day("2024-09-01T00:00")], "2025-01-01", "one session is no history"),
        ([], "2025-01-01", "no dated session"),
        (
            [_day("2021-01-10T00:00"), _day("2021-04-20T00:00"), _day("2022-06-01T00:00")],
            "2022-08-01",
            "gaps of 100 and 407 days are no cadence",
        ),
        (
            [_day("2024-01-10T00:00"), _day("2024-05-01T00:00")],
            "2024-06-01",
            "one gap of 112 days: not a calendar cadence",
        ),
        (SEPTEMBERS + [_day("2023-09-12T00:00")], "2023-03-01", "the next one is known"),
        (SEPTEMBERS, "2025-03-01", "two runs missed: stopped"),
    ],
)
def test_nothing_when_the_history_is_too_thin_or_irregular(starts, now, why):
    assert predict(starts, _day(f"{now}T00:00")) is None, why


def test_one_run_on_two_platforms_counts_once():
    same = [SEPTEMBERS[0], SEPTEMBERS[0] + timedelta(days=3), SEPTEMBERS[1]]
    assert runs(same) == [SEPTEMBERS[0], SEPTEMBERS[1]]


NOW = datetime(2026, 11, 15, 11, 0, tzinfo=UTC)


def test_the_course_page_and_the_api_show_the_estimate_only_where_supported(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    yearly = [_day(f"{year}-09-14T08:00") for year in (2023, 2024, 2025, 2026)]
    _write(
        url,
        [
            dated_course("yearly", "Droit des contrats", yearly),
            dated_course("thin", "Cuisine", [_day("2025-03-01T08:00")]),
        ],
        NOW,
    )
    client = TestClient(create_app(open_readonly(url), clock=lambda: NOW))
    found = client.get("/api/v1/courses", params={"q": "droit"}).json()["courses"][0]
    detail = client.get(f"/api/v1/courses/{found['id']}").json()
    window = detail["predicted_next_session"]
    assert window["expected"].startswith("2027-09")
    assert window["evidence"] == {
        "sessions": 4,
        "first": "2023-09-14T08:00:00Z",
        "last": "2026-09-14T08:00:00Z",
        "gap_days": 365,
    }
    page = client.get(f"/cours/{found['id']}").text
    assert (
        "Prochaine session probable : septembre 2027 (d&#39;après 4 sessions depuis 2023)" in page
    )

    thin = client.get("/api/v1/courses", params={"q": "cuisine"}).json()["courses"][0]
    assert client.get(f"/api/v1/courses/{thin['id']}").json()["predicted_next_session"] is None
    assert "Prochaine session probable" not in client.get(f"/cours/{thin['id']}").text

    document = client.get("/api/v1/openapi.json").json()
    fields = document["components"]["schemas"]["CourseDetail"]["properties"]
    assert "predicted_next_session" in fields


def test_track_record_counts_runs_by_now_and_their_platforms():
    from portal.formatting import track_record_text
    from storage.predict import track_record

    def session(start, platform):
        return {"start": start, "platform_label": platform}

    sessions = [
        session(SEPTEMBERS[0], "FUN-MOOC"),
        session(SEPTEMBERS[0] + timedelta(days=3), "OpenClassrooms"),  # the same run
        session(SEPTEMBERS[1], "FUN-MOOC"),
        session(SEPTEMBERS[3], "FUN-MOOC"),  # after "now": not run yet
        session(None, "Coursera"),
    ]
    record = track_record(sessions, _day("2021-01-01T00:00"))
    assert record == {
        "runs": 2,
        "since": SEPTEMBERS[0],
        "platforms": ["FUN-MOOC", "OpenClassrooms"],
    }
    assert track_record_text(record) == (
        "2 sessions depuis septembre 2019, sur FUN-MOOC et OpenClassrooms"
    )
    once = track_record(sessions[:1], _day("2021-01-01T00:00"))
    assert track_record_text(once) == "1 session, en septembre 2019, sur FUN-MOOC"
    assert track_record(sessions, _day("2019-01-01T00:00")) is None
    assert track_record_text(None) == ""


def test_the_backtest_reads_real_launches_as_runs(tmp_path):
    """``predict_backtest --launches``: a course is its institution and number, each launch
    a run (two launches within ``SAME_RUN`` one run), each scored against the runs before."""
    from benchmarks.predict_backtest import LAUNCHES, backtest, launch_histories

    table = tmp_path / "launches.csv"
    table.write_text(
        "Institution,Course Number,Launch Date\n"
        + "".join(
            f"X,yearly,09/0{d}/{y}\n" for d, y in [(1, 2012), (2, 2013), (3, 2014), (4, 2015)]
        )
        + "X,yearly,09/10/2015\n"  # the same run, announced twice
        + "Y,yearly,09/01/2013\n"  # another institution's course of the same number
    )
    histories = launch_histories(table)
    assert sorted(len(h) for h in histories) == [1, 4]
    result = backtest(histories)
    assert (result["askable"], result["answered"], result["hits"]) == (2, 2, 2)
    shipped = launch_histories(LAUNCHES)
    assert len(shipped) == 188 and sum(len(h) for h in shipped) <= 290
