"""machina's forum_permission app, overridden through machina's own recipe (machina's models and migrations).

Why: every forum page asks machina's permission handler for the forums a person may see and read.
machina answers each of these questions with its own permission queries and then walks the forum
tree through one queryset per forum; ours answers them from one computation and walks the tree in
memory. The permission rules themselves stay machina's (its checker decides).
"""
