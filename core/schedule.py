"""The recurring work of a deployment, run by `manage.py run_schedule` (docker-compose service "scheduler").

Each app declares its own jobs: in its `AppConfig.ready()` it registers a function that builds the job
from the settings of the moment (`schedule.register(tasks.notices_job)`), so that core imports no app.
The jobs today:
- "avis-messages" every CHAT_NOTICES_EVERY_MINUTES: e-mails about direct messages left unread
  (chat/tasks.py, queued for the worker);
- "resume-forum" each day at FORUM_DIGEST_TIME (local time, TIME_ZONE): the forum's daily digest
  (forum/tasks.py, queued for the worker);
- "courriels" every OUTBOX_SWEEP_MINUTES (5): the outbox's sweep, sending e-mails due for a retry or left
  by a worker that died (core/outbox/tasks.py, queued for the worker; docs/mail.md);
- "sauvegarde" each day at BACKUP_TIME, only where BACKUP_DIR is set: `backup` into BACKUP_DIR, then only the
  BACKUP_KEEP newest archives are kept there (core's own job, here, after the registered ones).

Both e-mail jobs do nothing when run twice (what was sent is marked), so a job run once too often costs
nothing, and one missed costs a day: when it was last run is kept in a state file (SCHEDULE_STATE_FILE,
in the var volume) so that a restart, even at 07:05, still sends that morning's digest. Each tick also
writes the time into that file: `run_schedule --check` (the service's health check) fails when the loop
has stopped turning. A job that fails is logged and tried again at its next occurrence; it never stops
the others.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from core import backup

logger = logging.getLogger(__name__)

HEARTBEAT = "battement"


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    run: Callable[[], str]
    every: dt.timedelta | None = None  # a job run at this interval...
    at: dt.time | None = None  # ...or each day at this local time

    def due(self, last_run: dt.datetime | None, now: dt.datetime) -> bool:
        if self.every is not None:
            return last_run is None or now - last_run >= self.every
        occurrence = latest_occurrence(self.at, now)
        # Never run (a new deployment): from the next occurrence on, not at once.
        return last_run is not None and last_run < occurrence


def latest_occurrence(at: dt.time, now: dt.datetime) -> dt.datetime:
    """The last moment, at or before `now`, when the local clock read `at`."""
    local = timezone.localtime(now)
    today = timezone.make_aware(dt.datetime.combine(local.date(), at), local.tzinfo)
    return today if today <= local else timezone.make_aware(
        dt.datetime.combine(local.date() - dt.timedelta(days=1), at), local.tzinfo)


def parse_time(value: str, setting: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"{setting} = « {value} » : une heure HH:MM est attendue (ex. 07:00).") from error


# --- the jobs -----------------------------------------------------------------------------------------


JobFactory = Callable[[], "Job | None"]
_factories: list[JobFactory] = []


def register(factory: JobFactory) -> None:
    """Plan a job: `factory()` builds it from the current settings each time the jobs are listed (None
    when the settings turn it off). Called from an app's `ready()`; registering twice changes nothing."""
    if factory not in _factories:
        _factories.append(factory)


def queue(task) -> str:
    """A job's body that leaves the work to the worker (django-tasks); the outcome names the task."""
    return f"tâche {task.enqueue().id} confiée au worker"


def _backup_and_prune() -> str:
    folder = Path(settings.BACKUP_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    report = backup.create_backup(folder)
    removed = prune_backups(folder, keep=settings.BACKUP_KEEP)
    return f"{report.path.name} écrite, {len(removed)} ancienne(s) supprimée(s)"


def prune_backups(folder: Path, *, keep: int) -> list[Path]:
    """Delete all but the `keep` newest archives that `backup` named in `folder` (names sort by date)."""
    archives = sorted(folder.glob("passerelles-[0-9]*-[0-9]*.tar.gz"))
    removed = archives[:-keep] if keep > 0 else []
    for archive in removed:
        archive.unlink(missing_ok=True)
    return removed


def jobs() -> list[Job]:
    """The registered jobs, in registration order, then the nightly backup where BACKUP_DIR is set."""
    planned = [job for factory in _factories if (job := factory()) is not None]
    if settings.BACKUP_DIR:
        planned.append(Job("sauvegarde", f"sauvegarde dans {settings.BACKUP_DIR}", _backup_and_prune,
                           at=parse_time(settings.BACKUP_TIME, "BACKUP_TIME")))
    return planned


# --- state and ticks ------------------------------------------------------------------------------------


def read_state(path: Path) -> dict[str, dt.datetime]:
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        logger.warning("État du planificateur illisible (%s) : il repart de zéro.", path)
        return {}
    state = {}
    for name, value in raw.items() if isinstance(raw, dict) else ():
        try:
            state[name] = dt.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            continue
    return state


def write_state(path: Path, state: dict[str, dt.datetime]) -> None:
    """Written whole beside the file, then renamed over it: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(handle, "w") as file:
        json.dump({name: moment.isoformat() for name, moment in sorted(state.items())}, file, indent=1)
    os.replace(temporary, path)


def tick(path: Path, planned: list[Job], now: dt.datetime | None = None) -> list[tuple[str, str]]:
    """Run the jobs that are due, note when, and beat; returns (job, outcome) for each job run."""
    now = now or timezone.now()
    state = read_state(path)
    outcomes = []
    for job in planned:
        if job.at is not None and job.name not in state:
            state[job.name] = now  # a new daily job starts counting from now (see Job.due)
            continue
        if not job.due(state.get(job.name), now):
            continue
        try:
            outcome = job.run()
        except Exception as error:  # one failing job never stops the others, nor the loop
            logger.exception("Tâche planifiée « %s » en échec", job.name)
            outcome = f"échec : {error}"
        else:
            logger.info("Tâche planifiée « %s » : %s", job.name, outcome)
        state[job.name] = now
        outcomes.append((job.name, outcome))
    state[HEARTBEAT] = now
    write_state(path, state)
    return outcomes


def heartbeat_age(path: Path, now: dt.datetime | None = None) -> dt.timedelta | None:
    """How long ago the loop last turned; None when it never did."""
    beat = read_state(path).get(HEARTBEAT)
    return None if beat is None else (now or timezone.now()) - beat
