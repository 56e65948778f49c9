"""machina's forum_conversation app, overridden through machina's own recipe.

Same label, machina's models and migrations; machina's class loader finds our modules (views…)
first and falls back to machina's for everything we do not define.
"""
