from machina.apps.forum_tracking.apps import ForumTrackingAppConfig


class TrackingConfig(ForumTrackingAppConfig):
    # Listed in INSTALLED_APPS by module path: machina's class loader matches those strings.
    # ready() stays machina's: it connects machina's own receivers (a viewed topic is marked read).
    default = True
    name = "forum.overrides.forum_tracking"
