"""The page bench (bench/bench_pages.py): its registration, environment and verdicts, and its profile
summary on a real pyinstrument run."""

from __future__ import annotations

import pytest

from bench import bench_pages, framework


def test_the_benchmark_is_registered_as_pages_with_debug_off(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)

    env = framework.REGISTRY["pages"].environment()

    assert env["DEBUG"] == "0"
    assert env["DATABASE_URL"].endswith("var/bench/pages-1.sqlite3")


def test_a_given_database_is_used_with_one_database_per_scale(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/passerelles_bench")

    assert "DATABASE_URL" not in bench_pages.environment()  # the given one stays
    assert bench_pages.database_name(20, base="passerelles_bench") == "passerelles_bench_s20"
    assert bench_pages.database_name(1, base=None).endswith("pages-1.sqlite3")


def test_cpu_summary_gives_the_median_and_p90_in_milliseconds():
    summary = bench_pages.cpu_summary([i / 1000 for i in range(1, 11)])

    assert summary == {"n": 10, "cpu_p50_ms": 5.5, "cpu_p90_ms": 9.1}


def test_a_demo_row_is_judged_on_its_target_and_the_login_is_a_reference():
    def status(page: str, p50: float) -> str:
        return bench_pages.verdict({"page": page, "cpu_p50_ms": p50, "queries": 7}, None)["status"]

    assert status("directory-list", 19.9) == "atteint"
    assert status("dashboard-director", 15.1) == "non atteint"
    assert bench_pages.verdict({"page": "login", "cpu_p50_ms": 3, "queries": 0}, None)["met"] is None


@pytest.mark.parametrize(("p50", "queries", "met"), [(14.9, 12, True), (15.1, 12, False), (10.0, 13, False)])
def test_a_scale_20_row_must_stay_within_its_ratio_with_the_same_queries(p50, queries, met):
    demo = {"page": "dashboard-director", "cpu_p50_ms": 10.0, "queries": 12}

    result = bench_pages.verdict({"page": "dashboard-director", "cpu_p50_ms": p50, "queries": queries}, demo)

    assert result["met"] is met
    assert result["ratio_to_demo"] == round(p50 / 10.0, 2)


def test_the_rows_get_their_verdicts_and_a_table():
    rows = [{"name": "annuaire, échelle 1", "page": "directory-list", "scale": 1, "cpu_p50_ms": 10.0,
             "cpu_p90_ms": 12.0, "queries": 7},
            {"name": "annuaire, échelle 20", "page": "directory-list", "scale": 20, "cpu_p50_ms": 20.0,
             "cpu_p90_ms": 25.0, "queries": 7}]

    bench_pages.add_verdicts(rows)

    assert [row["status"] for row in rows] == ["atteint", "non atteint"]
    table = bench_pages.format_rows(rows)
    assert "2.00" in table and "non atteint" in table


def _busy(n: int) -> int:
    return sum(i * i for i in range(n))


def test_the_profile_summary_names_the_costly_frames():
    summary = bench_pages.profile_summary(lambda: _busy(200_000), n=5)

    assert summary["requests"] == 5
    assert any("<genexpr>" in line or "_busy" in line for line in summary["by_own_time"])
    assert any("_busy (tests/test_bench_pages.py" in line for line in summary["by_total_time"])
