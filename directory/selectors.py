"""Reads of the directory, with access rules applied (helper-owned; see views)."""

from directory.models import Association


def network_stats() -> dict:
    return {"associations": Association.objects.filter(status=Association.Status.MEMBER).count()}


def dashboard_context(user) -> dict:
    return {}
