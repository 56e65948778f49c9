"""Benchmarks refuse a busy machine (bench/framework.py, bench/run.py): a figure taken while something else
runs says nothing of the code, so a run on a busy machine writes nothing unless explicitly allowed, and
every result records the load at its start and end."""

from __future__ import annotations

import json

import pytest

from bench import framework
from bench import run as runner

QUIET = {"load_1m": 0.4, "load_5m": 0.5, "load_15m": 0.6, "cpu_cores": 2}
BUSY = {"load_1m": 3.2, "load_5m": 2.9, "load_15m": 2.1, "cpu_cores": 2}


def test_the_machine_is_busy_when_its_load_is_above_its_core_count():
    assert framework.busy_reason(QUIET) == ""
    assert framework.busy_reason({**QUIET, "load_1m": 2.0}) == ""  # every core busy, nothing waiting
    reason = framework.busy_reason(BUSY)
    assert "machine occupée" in reason and "3.2" in reason and "2 cœurs" in reason


def test_the_load_read_from_the_system_has_the_averages_and_the_cores():
    load = framework.machine_load()

    assert set(load) == {"load_1m", "load_5m", "load_15m", "cpu_cores"}
    assert load["cpu_cores"] >= 1 and all(load[key] >= 0 for key in ("load_1m", "load_5m", "load_15m"))


def test_a_benchmark_waits_for_the_load_of_the_previous_one_to_fall():
    readings = iter([BUSY, BUSY, QUIET])
    slept: list[float] = []

    load, reason = framework.wait_until_quiet(timeout=60, poll=5, read=lambda: next(readings), sleep=slept.append)

    assert (load, reason) == (QUIET, "")
    assert slept == [5, 5]


def test_a_machine_that_stays_busy_is_reported_after_the_wait():
    slept: list[float] = []

    load, reason = framework.wait_until_quiet(timeout=20, poll=5, read=lambda: BUSY, sleep=slept.append)

    assert load == BUSY and "machine occupée" in reason
    assert sum(slept) == 20


@pytest.fixture
def trial_benchmark(monkeypatch, tmp_path):
    """A benchmark of one row, results written under tmp_path, the load read as each test says."""
    ran: list[str] = []

    def run_it() -> framework.Report:
        ran.append("ran")
        return framework.Report(rows=[{"name": "essai", "n": 1, "p50_ms": 1.0}], data={"taille": 1})

    monkeypatch.setitem(framework.REGISTRY, "essai-garde", framework.Benchmark("essai-garde", "Essai", run_it))
    monkeypatch.setattr(framework, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(runner, "ROOT", tmp_path)  # discover() finds no module there: the registry as is
    monkeypatch.setattr(framework, "QUIET_WAIT_SECONDS", 0)
    monkeypatch.delenv(framework.ALLOW_BUSY_VARIABLE, raising=False)
    return ran, tmp_path / "results"


def written(results) -> dict:
    """The one result file of the trial benchmark (<name>.json on SQLite, <name>.<vendor>.json otherwise)."""
    (path,) = results.glob("essai-garde*.json")
    return json.loads(path.read_text())


@pytest.mark.django_db
def test_on_a_busy_machine_the_benchmark_does_not_run_and_writes_nothing(trial_benchmark, monkeypatch, capsys):
    ran, results = trial_benchmark
    monkeypatch.setattr(framework, "machine_load", lambda: BUSY)
    monkeypatch.setattr(framework, "wait_until_quiet", lambda: (BUSY, framework.busy_reason(BUSY)))

    assert runner.run_in_this_process("essai-garde") == runner.BUSY_EXIT

    assert ran == [] and not list(results.glob("*.json"))
    assert "banc refusé, machine occupée" in capsys.readouterr().err


@pytest.mark.django_db
def test_a_result_records_the_load_at_its_start_and_end(trial_benchmark, monkeypatch):
    ran, results = trial_benchmark
    monkeypatch.setattr(framework, "machine_load", lambda: BUSY)  # the benchmark's own processes, at the end
    monkeypatch.setattr(framework, "wait_until_quiet", lambda: (QUIET, ""))

    assert runner.run_in_this_process("essai-garde") == 0

    machine = written(results)["machine"]
    assert ran == ["ran"]
    assert (machine["load_at_start"], machine["load_at_end"], machine["busy_machine"]) == (QUIET, BUSY, False)


@pytest.mark.django_db
def test_allowed_explicitly_a_busy_run_is_written_and_marked(trial_benchmark, monkeypatch):
    ran, results = trial_benchmark
    monkeypatch.setenv(framework.ALLOW_BUSY_VARIABLE, "1")
    monkeypatch.setattr(framework, "wait_until_quiet", lambda: (BUSY, framework.busy_reason(BUSY)))

    assert runner.run_in_this_process("essai-garde") == 0

    assert ran == ["ran"] and written(results)["machine"]["busy_machine"] is True
