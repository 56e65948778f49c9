"""machina's forum_tracking app, overridden through machina's own recipe (machina's models and migrations).

Why: machina's tracking handler marks forums read with three queries per forum, and finds the
ancestors of every unread forum with one query each on the forum index. Our handler does both in
a constant number of queries; everything else stays machina's.
"""
