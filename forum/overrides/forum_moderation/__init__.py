"""machina's forum_moderation app, overridden through machina's own recipe (it has no models)."""
