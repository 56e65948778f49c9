"""A management command that does one background task's work here, or leaves it to the worker."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class TaskCommand(BaseCommand):
    """Runs `task` in this process and reports `done` (with {count}); with --enqueue, queues it for the
    worker (django-tasks) and reports `queued` (with {id}). Subclasses name the task lazily in
    `get_task`, so that importing the command does not import the app's task module first."""

    done = ""
    queued = ""

    def get_task(self):
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue", action="store_true",
            help="Confier l'envoi au worker de tâches (django-tasks) au lieu de l'effectuer ici.",
        )

    def handle(self, *args, **options):
        task = self.get_task()
        if options["enqueue"]:
            self.stdout.write(self.queued.format(id=task.enqueue().id))
            return
        self.stdout.write(self.style.SUCCESS(self.done.format(count=task.call())))
