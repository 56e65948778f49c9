import machina.apps.forum_permission.admin  # noqa: F401 (registers machina's admin)
