from machina.apps.forum_permission.apps import ForumPermissionAppConfig


class PermissionsConfig(ForumPermissionAppConfig):
    # Listed in INSTALLED_APPS by module path: machina's class loader matches those strings.
    # ready() stays machina's: its receiver creates the permission codenames after migrations.
    default = True
    name = "forum.overrides.forum_permission"
