"""machina's forum_member app, overridden through machina's own recipe (machina's models and migrations)."""
