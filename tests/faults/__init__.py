"""Fault tests (issue 8): a private Redis, PostgreSQL or Elasticsearch stand-in of each test's own is
killed, restarted or made to fail under the running site, never the shared services CI uses. Marked
`faults`, part of the default run (`make test`); skipped, with the reason, only where the server binary
is missing (redis-server, PostgreSQL's initdb/pg_ctl)."""
