"""The deployment's recurring jobs (core/schedule.py, `manage.py run_schedule`): when each runs, what a
restart keeps, what a failure does, the nightly backup and its retention, and the health check."""

from __future__ import annotations

import datetime as dt
import tarfile
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core import schedule

PARIS = ZoneInfo("Europe/Paris")


def paris(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=PARIS)


class Recorder:
    """A job body that notes each call (the tick under test is real: only the work is stood in for)."""

    def __init__(self, fail: bool = False):
        self.calls, self.fail = 0, fail

    def __call__(self) -> str:
        self.calls += 1
        if self.fail:
            raise RuntimeError("serveur de courriel injoignable")
        return "fait"


@pytest.fixture
def state(tmp_path):
    return tmp_path / "schedule.json"


def test_an_interval_job_runs_at_once_then_each_interval(state):
    body = Recorder()
    job = schedule.Job("avis", "avis", body, every=dt.timedelta(minutes=5))

    schedule.tick(state, [job], now=paris(2, 9, 0))
    schedule.tick(state, [job], now=paris(2, 9, 4))
    schedule.tick(state, [job], now=paris(2, 9, 5))

    assert body.calls == 2


def test_a_daily_job_waits_for_its_time_on_a_new_deployment(state):
    body = Recorder()
    job = schedule.Job("resume", "résumé", body, at=dt.time(7, 0))

    schedule.tick(state, [job], now=paris(2, 8, 0))  # deployed after 07:00: not today
    schedule.tick(state, [job], now=paris(3, 6, 59))
    assert body.calls == 0
    schedule.tick(state, [job], now=paris(3, 7, 0))
    schedule.tick(state, [job], now=paris(3, 7, 1))
    schedule.tick(state, [job], now=paris(3, 23, 0))

    assert body.calls == 1


def test_a_restart_after_the_hour_still_runs_that_days_job_once(state):
    body = Recorder()
    job = schedule.Job("resume", "résumé", body, at=dt.time(7, 0))
    schedule.tick(state, [job], now=paris(2, 6, 0))
    schedule.tick(state, [job], now=paris(2, 7, 0))  # Monday's digest

    # Down from Tuesday 06:50 to 07:05: the state file remembers Monday's run.
    schedule.tick(state, [job], now=paris(3, 7, 5))
    schedule.tick(state, [job], now=paris(3, 7, 6))

    assert body.calls == 2


def test_the_daily_time_is_local_time(state):
    body = Recorder()
    job = schedule.Job("resume", "résumé", body, at=dt.time(7, 0))
    schedule.tick(state, [job], now=paris(2, 6, 0))

    schedule.tick(state, [job], now=dt.datetime(2026, 11, 2, 5, 59, tzinfo=dt.UTC))  # 06:59 in Paris
    assert body.calls == 0
    schedule.tick(state, [job], now=dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC))  # 07:00 in Paris
    assert body.calls == 1


def test_a_failing_job_does_not_stop_the_others_and_waits_for_its_next_turn(state):
    failing, working = Recorder(fail=True), Recorder()
    jobs = [schedule.Job("sauvegarde", "s", failing, every=dt.timedelta(hours=1)),
            schedule.Job("avis", "a", working, every=dt.timedelta(minutes=5))]

    outcomes = schedule.tick(state, jobs, now=paris(2, 9, 0))
    schedule.tick(state, jobs, now=paris(2, 9, 5))

    assert outcomes == [("sauvegarde", "échec : serveur de courriel injoignable"), ("avis", "fait")]
    assert (failing.calls, working.calls) == (1, 2)


def test_an_unreadable_state_file_is_started_afresh(state):
    state.write_text("{pas du json")
    body = Recorder()

    schedule.tick(state, [schedule.Job("avis", "a", body, every=dt.timedelta(minutes=5))], now=paris(2, 9, 0))

    assert body.calls == 1
    assert schedule.read_state(state)["avis"] == paris(2, 9, 0)


def test_the_jobs_follow_the_settings(settings, tmp_path):
    settings.BACKUP_DIR = ""
    assert [job.name for job in schedule.jobs()] == ["courriels", "avis-messages", "resume-forum"]

    settings.BACKUP_DIR, settings.BACKUP_TIME, settings.FORUM_DIGEST_TIME = str(tmp_path), "02:30", "06:45"
    settings.CHAT_NOTICES_EVERY_MINUTES = 10
    planned = {job.name: job for job in schedule.jobs()}

    assert planned["avis-messages"].every == dt.timedelta(minutes=10)
    assert planned["resume-forum"].at == dt.time(6, 45) and planned["sauvegarde"].at == dt.time(2, 30)
    assert planned["courriels"].every == dt.timedelta(minutes=5)


def test_an_app_declares_its_jobs_once_and_a_job_the_settings_turn_off_is_left_out(settings, monkeypatch):
    settings.BACKUP_DIR = ""
    monkeypatch.setattr(schedule, "_factories", list(schedule._factories))  # registered in ready()

    def hourly() -> schedule.Job:
        return schedule.Job("essai", "essai", Recorder(), every=dt.timedelta(hours=1))

    schedule.register(hourly)
    schedule.register(hourly)
    schedule.register(lambda: None)

    assert [job.name for job in schedule.jobs()] == ["courriels", "avis-messages", "resume-forum", "essai"]


def test_a_malformed_time_is_refused_at_start_with_a_clear_message(settings):
    settings.FORUM_DIGEST_TIME = "7h"

    with pytest.raises(CommandError, match="FORUM_DIGEST_TIME = « 7h » : une heure HH:MM est attendue"):
        call_command("run_schedule", "--once")


def test_only_the_newest_archives_are_kept(tmp_path):
    names = [f"passerelles-202611{day:02d}-030000.tar.gz" for day in range(1, 6)]
    for name in [*names, "autre-fichier.tar.gz"]:
        (tmp_path / name).write_bytes(b"x")

    removed = schedule.prune_backups(tmp_path, keep=2)

    assert [path.name for path in removed] == names[:3]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["autre-fichier.tar.gz", *names[3:]]


@pytest.mark.django_db
def test_the_nightly_backup_writes_a_whole_archive_and_keeps_the_newest(settings, tmp_path):
    settings.BACKUP_DIR, settings.BACKUP_KEEP = str(tmp_path / "sauvegardes"), 1
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "sauvegardes").mkdir()
    (tmp_path / "sauvegardes" / "passerelles-20260101-030000.tar.gz").write_bytes(b"ancienne")
    backup_job = next(job for job in schedule.jobs() if job.name == "sauvegarde")

    outcome = backup_job.run()

    archives = sorted((tmp_path / "sauvegardes").glob("passerelles-*.tar.gz"))
    assert len(archives) == 1 and archives[0].name != "passerelles-20260101-030000.tar.gz"
    assert outcome.startswith(archives[0].name) and "1 ancienne(s) supprimée(s)" in outcome
    with tarfile.open(archives[0]) as archive:
        assert "manifest.json" in archive.getnames()


@pytest.mark.django_db
def test_the_health_check_follows_the_loop(settings, tmp_path, capsys):
    settings.SCHEDULE_STATE_FILE = tmp_path / "schedule.json"
    settings.BACKUP_DIR = ""

    with pytest.raises(CommandError, match="n'a jamais tourné"):
        call_command("run_schedule", "--check")

    schedule.write_state(settings.SCHEDULE_STATE_FILE, {schedule.HEARTBEAT: paris(1, 0, 0)})
    with pytest.raises(CommandError, match="ne tourne plus"):
        call_command("run_schedule", "--check")

    call_command("run_schedule", "--once")
    call_command("run_schedule", "--check")
    assert "Planificateur actif" in capsys.readouterr().out
