"""The load test: its helpers (bench/load_scenario.py, bench/bench_load.py) on synthetic data, and one short
real run of the Locust members (bench/locustfile.py) through the driver, against a stub site on loopback.
"""

import json
import random
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import bench_load, framework
from bench import load_scenario as scenario
from bench.load_scenario import Member, Sample, Scenario


def _member() -> Member:
    return Member(username="m.dupont", password="x", room_id=7, forums=["/forum/f-1/"],
                  topics=["/forum/f-1/t-1/", "/forum/f-1/t-2/"], reply_targets=["/forum/f-1/t-1/repondre/"],
                  associations=["/annuaire/associations/a/"], guides=["/ressources/guide-1/"])


def test_the_benchmark_is_registered_as_load():
    assert "load" in framework.REGISTRY
    assert framework.REGISTRY["load"].environment()["DEBUG"] == "0"


def test_the_environment_raises_every_rate_limit_and_points_at_its_own_database_and_redis(monkeypatch):
    for name in ("PASSERELLES_LOAD_DATABASE_URL", "PASSERELLES_LOAD_REDIS_URL", "PASSERELLES_LOAD_CONN_MAX_AGE"):
        monkeypatch.delenv(name, raising=False)

    env = bench_load.environment()

    for name in ("LOGIN", "LOGIN_ADDRESS", "FORUM_POSTING", "SEARCH", "SEARCH_SUGGEST", "CHAT"):
        assert int(env[f"{name}_RATE_LIMIT"]) >= 1_000_000
    assert "passerelles_load" in env["DATABASE_URL"]
    assert env["REDIS_URL"].endswith("/13")
    assert env["REDIS_KEY_PREFIX"].startswith("passerelles-load-")
    assert "DJANGO_SETTINGS_MODULE" not in env  # the site's own settings unless the variant is asked for


def test_the_connection_age_variant_runs_the_servers_on_the_bench_settings(monkeypatch):
    monkeypatch.setenv("PASSERELLES_LOAD_CONN_MAX_AGE", "0")

    assert bench_load.environment()["DJANGO_SETTINGS_MODULE"] == "bench.load_settings"


def test_percentile_interpolates_between_ranks():
    values = list(range(1, 101))

    assert scenario.percentile(values, 50) == pytest.approx(50.5)
    assert scenario.percentile(values, 95) == pytest.approx(95.05)
    assert scenario.percentile(values, 100) == 100
    assert scenario.percentile([42.0], 99) == 42.0
    assert scenario.percentile([], 95) is None


def test_percentile_does_not_depend_on_the_order_of_the_values():
    values = [float(v) for v in range(500)]
    shuffled = values[:]
    random.Random(1).shuffle(shuffled)

    assert scenario.percentile(shuffled, 95) == scenario.percentile(values, 95)


@pytest.mark.parametrize(("status", "expected", "error"), [
    (200, (200,), None),
    (302, (302,), None),
    (500, (200,), "5xx"),
    (503, (200,), "5xx"),
    (404, (200,), "4xx"),
    (403, (200,), "4xx"),
    (429, (200,), "429 (limite de débit)"),
    (302, (200,), "statut 302"),
    (200, (302,), "statut 200"),
])
def test_a_status_other_than_the_expected_one_is_an_error(status, expected, error):
    assert scenario.classify(status, expected) == error


def test_summarize_counts_only_the_window_and_every_kind_of_error():
    samples = [
        Sample("topic", started=5.0, latency_s=9.0),  # before the window: ignored
        *(Sample("topic", started=10.0 + i / 10, latency_s=0.1) for i in range(96)),
        Sample("topic", started=20.0, latency_s=0.5, error="5xx"),
        Sample("topic", started=21.0, latency_s=30.0, error="timeout"),
        Sample("search", started=22.0, latency_s=0.2, error="connexion (ConnectionRefusedError)"),
        Sample("search", started=23.0, latency_s=0.2),
        Sample("topic", started=40.0, latency_s=9.0, error="5xx"),  # at the window's end: excluded
    ]

    summary = scenario.summarize(samples, window=(10.0, 40.0))

    assert summary["n"] == 100
    assert summary["requests_per_s"] == pytest.approx(100 / 30, abs=1e-3)
    assert summary["errors"] == 3
    assert summary["error_rate"] == pytest.approx(0.03)
    assert summary["error_kinds"] == {"5xx": 1, "timeout": 1, "connexion (ConnectionRefusedError)": 1}
    assert summary["p50_ms"] == pytest.approx(100.0)
    assert summary["max_ms"] == pytest.approx(30_000.0)


def test_summarize_filters_by_kind_and_copes_with_nothing():
    samples = [Sample("topic", 1.0, 0.1), Sample("search", 1.0, 0.3, error="4xx")]

    assert scenario.summarize(samples, window=(0, 10), kinds=["search"])["error_rate"] == 1.0
    empty = scenario.summarize(samples, window=(0, 10), kinds=["reply"])
    assert empty["n"] == 0
    assert empty["p95_ms"] is None
    assert empty["error_rate"] == 0.0


def test_think_times_are_exponential_around_the_mean():
    scenario = Scenario(weights={"home": 1}, think_mean_s=20)
    rng = random.Random(5)

    pauses = [scenario.think(rng) for _ in range(20_000)]

    assert min(pauses) >= 0
    assert sum(pauses) / len(pauses) == pytest.approx(20, rel=0.05)
    # Exponential: about 63 % of pauses are shorter than the mean.
    assert sum(p < 20 for p in pauses) / len(pauses) == pytest.approx(0.632, abs=0.02)


def test_offered_load_follows_members_think_time_and_the_mix():
    scenario = Scenario(weights={"home": 2, "reply": 1, "chat_message": 1}, think_mean_s=20)

    assert scenario.actions_per_second(200) == 10
    assert scenario.http_requests_per_action() == pytest.approx((2 * 1 + 1 * 2 + 0) / 4)


def test_the_default_mix_keeps_posting_rare_and_covers_every_action():
    assert set(scenario.ACTIONS) <= set(scenario.KINDS)
    total = sum(scenario.ACTIONS.values())
    assert scenario.ACTIONS["reply"] / total <= 0.02
    member = _member()
    for action in scenario.ACTIONS:
        assert scenario.action_target(action, member, random.Random(0)).startswith("/")


def test_members_start_spread_over_the_ramp_up():
    offsets = scenario.start_offsets(200, 60.0, random.Random(2))

    assert len(offsets) == 200
    assert offsets == sorted(offsets)
    assert 0 <= offsets[0] < 1 and 59 < offsets[-1] <= 60
    assert scenario.start_offsets(3, 0, random.Random(2)) == [0.0, 0.0, 0.0]


def test_action_targets_are_the_members_own():
    member = _member()
    rng = random.Random(4)

    assert scenario.action_target("topic", member, rng) in member.topics
    assert scenario.action_target("reply", member, rng) == member.reply_targets[0]
    assert scenario.action_target("chat_message", member, rng) == "/ws/discussions/7/"
    assert scenario.action_target("search", member, rng).startswith("/recherche/?q=")


def test_settings_come_from_the_environment_with_a_smoke_run_possible():
    defaults = bench_load.read_settings({})
    smoke = bench_load.read_settings({"PASSERELLES_LOAD_USERS": "50", "PASSERELLES_LOAD_SECONDS": "60",
                                      "PASSERELLES_LOAD_TOPOLOGIES": "daphne, daphne-x2"})

    assert (defaults.users, defaults.seconds, defaults.ramp) == (200, 600, 60)
    assert defaults.topologies == ("daphne", "uvicorn")
    assert (smoke.users, smoke.seconds, smoke.ramp) == (50, 60, 15)
    assert (defaults.settle, defaults.warmup) == (30, 90)  # the measured window starts once logins settled
    assert smoke.topologies == ("daphne", "daphne-x2")
    with pytest.raises(ValueError, match="Topologie inconnue"):
        bench_load.read_settings({"PASSERELLES_LOAD_TOPOLOGIES": "gunicorn"})
    with pytest.raises(ValueError):
        bench_load.read_settings({"PASSERELLES_LOAD_USERS": "0"})


PAGE = """
<header><form method="post" action="/compte/deconnexion/">
  <input type="hidden" name="csrfmiddlewaretoken" value="tok"><button type="submit">Se déconnecter</button>
</form></header>
<div class="chat-room" data-ws-url="/ws/discussions/7/"></div>
<form method="post" action="" enctype="multipart/form-data">
  <input type="hidden" name="csrfmiddlewaretoken" value="tok">
  <input type="text" name="subject" value="Re: Réunion &amp; suite">
  <textarea name="content">
Bonjour</textarea>
  <input type="checkbox" name="lock_topic">
  <input type="checkbox" name="enable_signature" checked>
  <select name="topic_type"><option value="0">Normal</option><option value="1" selected>Post-it</option></select>
  <input type="hidden" name="attachment-TOTAL_FORMS" value="0">
  <input type="file" name="attachment-0-file">
  <input type="submit" name="preview" value="Prévisualiser">
  <button type="submit">Publier</button>
</form>
"""


def test_the_form_a_browser_would_submit_is_read_from_the_page():
    form = scenario.form_fields(PAGE, "content")

    assert form == [("csrfmiddlewaretoken", "tok"), ("subject", "Re: Réunion & suite"), ("content", "Bonjour"),
                    ("enable_signature", "on"), ("topic_type", "1"), ("attachment-TOTAL_FORMS", "0")]
    assert scenario.form_fields(PAGE, "password") is None


def test_fill_form_replaces_and_adds_values():
    fields = [("csrfmiddlewaretoken", "tok"), ("username", ""), ("next", "")]

    filled = scenario.fill_form(fields, {"username": "m.dupont", "password": "secret"})

    assert filled == [("csrfmiddlewaretoken", "tok"), ("username", "m.dupont"), ("next", ""),
                      ("password", "secret")]


def _result(topology: str, p95: float, errors: int = 0, missing: int = 0) -> dict:
    http = {"n": 1000, "requests_per_s": 10.0, "p50_ms": p95 / 2, "p95_ms": p95, "p99_ms": p95 * 2,
            "errors": errors, "error_rate": errors / 1000}
    return {"topology": topology, "description": topology, "window_s": [60, 660],
            "per_kind": {"topic": {**http, "error_kinds": {}}}, "http": http, "all": {**http, "n": 1100},
            "chat": {"messages": 10, "deliveries": 150 - missing, "deliveries_expected": 150,
                     "deliveries_missing": missing, "delivery_p50_ms": 5.0, "delivery_p95_ms": 9.0,
                     "delivery_p99_ms": 12.0, "error_frames": {}},
            "cpu": {}}


def test_the_verdict_counts_missing_chat_deliveries_as_errors():
    clean = bench_load.verdict(_result("daphne", 120.0))
    lossy = bench_load.verdict(_result("daphne", 120.0, errors=1, missing=1))

    assert clean == {"error_rate": 0.0, "error_rate_met": True, "http_p95_ms": 120.0, "http_p95_met": True,
                     "every_process_ran": True}
    assert lossy["error_rate"] == pytest.approx(2 / 1250, abs=1e-5)
    assert not lossy["error_rate_met"]
    assert not bench_load.verdict(_result("daphne", 300.0))["http_p95_met"]


def test_the_comparison_names_the_topology_with_the_lower_http_p95():
    comparison = bench_load.compare([_result("daphne", 200.0), _result("uvicorn", 100.0)])

    assert comparison["faster"] == "uvicorn"
    assert comparison["p95_ratio_vs_daphne"] == {"daphne": 1.0, "uvicorn": 0.5}
    assert bench_load.compare([_result("daphne", 200.0)]) is None


def test_a_topology_that_answers_errors_fast_is_not_ranked_faster():
    comparison = bench_load.compare([_result("daphne", 200.0), _result("uvicorn", 20.0, errors=100)])

    assert comparison["faster"] == "daphne"
    assert comparison["not_ranked"] == ["uvicorn"]


def test_a_topology_whose_worker_died_is_not_ranked():
    crashed = {**_result("uvicorn", 20.0), "processes_exited": {"db_worker": 1}}

    comparison = bench_load.compare([_result("daphne", 200.0), crashed])

    assert not bench_load.verdict(crashed)["every_process_ran"]
    assert comparison["faster"] == "daphne"


def test_rows_and_table_show_each_request_type_http_overall_and_chat_delivery():
    rows = bench_load.rows_for(_result("uvicorn", 100.0, missing=3))

    kinds = [row["kind"] for row in rows]
    assert kinds == ["topic", "http", "all", "chat_delivery"]
    assert rows[-1]["errors"] == 3
    table = bench_load.format_table(rows)
    assert "uvicorn · forum : sujet" in table
    assert "2.00 %" in table  # 3 missing of 150 deliveries


def test_topologies_take_turns_in_blocks_sharing_the_measured_time_equally():
    schedule = scenario.block_schedule(60.0, 600.0, ["daphne", "uvicorn"], block_s=30.0)

    assert [block.topology for block in schedule[:4]] == ["daphne", "uvicorn", "daphne", "uvicorn"]
    assert len(schedule) == 20
    assert schedule[0].start == 60.0 and schedule[-1].end == pytest.approx(660.0)
    assert all(a.end == pytest.approx(b.start) for a, b in zip(schedule, schedule[1:], strict=False))
    served = {name: sum(b.end - b.start for b in schedule if b.topology == name) for name in ("daphne", "uvicorn")}
    assert served == {"daphne": pytest.approx(300.0), "uvicorn": pytest.approx(300.0)}


def test_a_short_run_still_gives_every_topology_one_block():
    schedule = scenario.block_schedule(15.0, 60.0, ["daphne", "uvicorn", "daphne-x2"], block_s=30.0)

    assert [block.topology for block in schedule] == ["daphne", "uvicorn", "daphne-x2"]
    assert schedule[-1].end == pytest.approx(75.0)


def test_the_serving_topology_follows_the_schedule_and_none_serves_the_ramp_up():
    schedule = scenario.block_schedule(10.0, 40.0, ["daphne", "uvicorn"], block_s=10.0)

    assert scenario.topology_at(schedule, 5.0) is None
    assert scenario.topology_at(schedule, 10.0) == "daphne"
    assert scenario.topology_at(schedule, 25.0) == "uvicorn"
    assert scenario.topology_at(schedule, 49.9) == "uvicorn"
    assert scenario.topology_at(schedule, 80.0) == "uvicorn"  # stragglers after the end: the last block


def test_the_router_warms_every_topology_up_then_sends_http_to_the_serving_one():
    schedule = scenario.block_schedule(10.0, 20.0, ["daphne", "daphne-x2"], block_s=10.0)
    router = scenario.Router({"daphne": [8000], "daphne-x2": [8001, 8002]}, ws_port=8000, schedule=schedule)

    warmup = [router.topology(1.0) for _ in range(4)]
    assert warmup == ["daphne", "daphne-x2", "daphne", "daphne-x2"]
    assert router.topology(12.0) == "daphne"
    assert [router.http_port("daphne-x2") for _ in range(4)] == [8001, 8002, 8001, 8002]
    assert router.ws == 8000


def test_summarize_keeps_one_topology_and_its_own_serving_time():
    samples = [Sample("topic", 20.0, 0.1, topology="daphne"), Sample("topic", 21.0, 0.2, topology="daphne"),
               Sample("topic", 40.0, 0.3, error="5xx", topology="uvicorn")]

    daphne = scenario.summarize(samples, window=(10.0, 70.0), topology="daphne", seconds=30.0)

    assert daphne["n"] == 2
    assert daphne["errors"] == 0
    assert daphne["requests_per_s"] == pytest.approx(2 / 30, abs=1e-3)
    assert scenario.summarize(samples, window=(10.0, 70.0), topology="uvicorn")["errors"] == 1


# --- one short real run of the Locust members ------------------------------------------------------------

LOGIN_PAGE = """<form method="post" action="/compte/deconnexion/"><input type="hidden" name="csrfmiddlewaretoken"
value="tok"></form><form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="tok">
<input name="username"><input type="password" name="password"><button>Se connecter</button></form>"""
REPLY_PAGE = """<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="tok">
<input name="subject" value="Re: sujet"><textarea name="content"></textarea></form>"""


class StubSite(BaseHTTPRequestHandler):
    """What the members meet on the site, reduced to its rules: the login form sets a Secure session cookie
    (as production's settings do), every other page needs it, a reply is a form then a POST."""

    posts: list[tuple[str, dict[str, list[str]]]] = []

    def log_message(self, *args):
        pass

    def _answer(self, status: int, body: str = "", headers: dict[str, str] | None = None) -> None:
        payload = body.encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _signed_in(self) -> bool:
        return "sessionid=s-" in (self.headers.get("Cookie") or "")

    def do_GET(self):
        if self.path == "/compte/connexion/":
            self._answer(200, LOGIN_PAGE, {"Set-Cookie": "csrftoken=c1; Path=/; Secure"})
        elif not self._signed_in():
            self._answer(302, headers={"Location": "/compte/connexion/?next=" + self.path})
        else:
            self._answer(200, REPLY_PAGE if self.path.endswith("/repondre/") else "<p>page</p>")

    def do_POST(self):
        from urllib.parse import parse_qs

        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        StubSite.posts.append((self.path, form))
        if self.headers.get("X-Forwarded-Proto") != "https" or "csrftoken=c1" not in (self.headers.get("Cookie") or ""):
            self._answer(403)
        elif self.path == "/compte/connexion/":
            session = f"sessionid=s-{form['username'][0]}; Path=/; Secure"
            self._answer(302, headers={"Location": "/", "Set-Cookie": session})
        else:
            self._answer(302 if self._signed_in() else 403, headers={"Location": "/forum/"})


def _stub_chat(connections: dict[str, set], origin: str | None = None):
    """Rooms that echo every `send` frame to each connection of the room, the sender's included; with
    `origin`, only handshakes from that page origin are accepted (as core/origins.py does)."""
    from websockets.sync.server import serve

    def handler(ws):
        if "sessionid=s-" not in (ws.request.headers.get("Cookie") or ""):
            ws.close(4403)
            return
        if origin is not None and ws.request.headers.get("Origin") != origin:
            ws.close(4403)
            return
        room = connections.setdefault(ws.request.path, set())
        room.add(ws)
        try:
            for raw in ws:
                frame = json.loads(raw)
                for other in list(room):
                    other.send(json.dumps({"type": "message", "client_id": frame["client_id"], "body": frame["body"]}))
        finally:
            room.discard(ws)

    return serve(handler, "127.0.0.1", 0)


def test_a_short_locust_run_measures_every_kind_for_each_topology(tmp_path, monkeypatch):
    site = ThreadingHTTPServer(("127.0.0.1", 0), StubSite)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    chat = _stub_chat({})
    threading.Thread(target=chat.serve_forever, daemon=True).start()
    # No PostgreSQL in this test: the connection monitor is not what it checks.
    monkeypatch.setattr(bench_load, "database_connections", lambda: 3)
    monkeypatch.setattr(bench_load, "postgres_max_connections", lambda: 100)
    monkeypatch.setattr(bench_load, "BENCH_DIR", tmp_path)
    monkeypatch.setattr(bench_load, "LOCUST_START_S", 3.0)
    members = [Member(username=f"membre-{i}", password="x", room_id=1, forums=["/forum/f/"],
                      topics=["/forum/f/t/"], reply_targets=["/forum/f/t/repondre/"],
                      associations=["/annuaire/associations/a/"], guides=["/ressources/guide/"]) for i in range(3)]
    settings = bench_load.Settings(users=3, seconds=6.0, ramp=1.0, think=0.2, topologies=("daphne", "uvicorn"),
                                   settle=0.5)
    port = site.server_address[1]
    servers = {name: [bench_load.Process(name, [], port)] for name in settings.topologies}
    schedule = scenario.block_schedule(settings.warmup, settings.seconds, settings.topologies, block_s=1.5)
    plan = scenario.Plan(
        t0=bench_load.time.monotonic() + bench_load.LOCUST_START_S, warmup=settings.warmup, seconds=settings.seconds,
        think=settings.think, members=members, offsets=[0.0, 0.5, 1.0], http_ports={n: [port] for n in servers},
        ws_port=chat.socket.getsockname()[1], schedule=schedule, seed=1, samples_path=str(tmp_path / "samples.json"),
        delivery_grace_s=1.0)
    try:
        results = bench_load.measure(plan, [], servers, settings)
    finally:
        site.shutdown()
        chat.shutdown()

    assert [r["topology"] for r in results] == ["daphne", "uvicorn"]
    recorded = set(bench_load.TOPOLOGY_RESULT_KEYS) - {"server_log_tracebacks", "processes_exited"}
    for result in results:
        assert recorded <= set(result)  # the JSON of bench/results keeps its shape
        assert result["http"]["n"] > 0 and result["http"]["errors"] == 0, result["http"]
        assert result["all"]["errors"] == 0, result["all"]["error_kinds"]
        assert result["cpu"]["client_process_percent_of_one_core"] > 0
        assert result["database_connections"]["connections_max"] == 3
    logins = sum(r["per_kind"].get("login", {}).get("n", 0) for r in results)
    assert logins == 6  # each member: the form, then its POST
    assert any(path == "/compte/connexion/" and form["username"] == ["membre-0"] for path, form in StubSite.posts)
    measured_kinds = {kind for r in results for kind in r["per_kind"]}
    assert {"home", "topic", "chat_message"} <= measured_kinds
    # The room's page and its websocket come right after the login, in the warm-up: in the samples only.
    warmup = [sample for sample in json.loads((tmp_path / "samples.json").read_text())["samples"]
              if sample["kind"] in ("chat_room", "ws_connect")]
    assert len(warmup) == 6 and not any(sample["error"] for sample in warmup)
    chat_results = [r["chat"] for r in results]
    assert sum(c["messages"] for c in chat_results) > 0
    assert sum(c["deliveries_missing"] for c in chat_results) == 0
    assert all(c["delivery_p95_ms"] is not None for c in chat_results if c["messages"])
    assert (tmp_path / "load" / "locust_stats.csv").exists()  # Locust's own report


# --- capacity: the offered load in steps ------------------------------------------------------------------


def _step(rate: float, p95: float | None = 100.0, errors: int = 0, achieved: float | None = None) -> dict:
    summary = {"offered_per_s": rate, "achieved_per_s": rate if achieved is None else achieved, "p95_ms": p95,
               "errors": errors}
    held, reason = scenario.step_sustained(summary, 300.0)
    return {**summary, "sustained": held, "reason": reason}


def test_a_step_holds_with_p95_under_the_limit_no_error_and_the_offered_rate_achieved():
    assert _step(30.0)["sustained"]
    assert not _step(30.0, p95=300.0)["sustained"]  # the limit itself is a failure: p95 < 300 ms
    assert "p95 HTTP 300 ms" in _step(30.0, p95=300.0)["reason"]
    assert not _step(30.0, errors=1)["sustained"]
    assert "1 erreur" in _step(30.0, errors=1)["reason"]
    assert _step(30.0, achieved=25.0)["sustained"]  # Poisson arrivals: a little under the offered rate
    assert not _step(30.0, achieved=20.0)["sustained"]  # the members could not send the step's load
    assert not _step(30.0, p95=None)["sustained"]


def test_the_capacity_is_the_highest_step_held_before_the_first_failure():
    steps = [_step(10.0), _step(20.0), _step(30.0), _step(45.0, p95=450.0), _step(60.0)]

    capacity = scenario.choose_capacity(steps)

    # 60 held by chance after 45 failed: it does not count (the ramp stops at the first failure).
    assert capacity == {"capacity_per_s": 30.0, "first_failing_step": 3, "first_failing_rate_per_s": 45.0,
                        "limit_reached": True}
    assert scenario.capacity_verdict(capacity["capacity_per_s"], 60.0) == "non atteint"


def test_every_step_held_gives_at_least_the_last_one_and_none_held_gives_no_capacity():
    every = scenario.choose_capacity([_step(20.0), _step(60.0), _step(80.0)])
    none = scenario.choose_capacity([_step(10.0, errors=3), _step(20.0)])

    assert every["capacity_per_s"] == 80.0 and not every["limit_reached"]
    assert scenario.capacity_verdict(every["capacity_per_s"], 60.0) == "atteint"
    assert scenario.capacity_verdict(60.0, 60.0) == "atteint"
    assert none["capacity_per_s"] is None and none["first_failing_step"] == 0
    assert scenario.capacity_verdict(none["capacity_per_s"], 60.0) == "non atteint"
    assert "aucun palier tenu" in bench_load.capacity_summary_line(none)
    assert "non atteint" in bench_load.capacity_summary_line(scenario.choose_capacity([_step(10.0), _step(20.0, 400)]))
    assert "au moins 80 req/s" in bench_load.capacity_summary_line(every)


def test_steps_follow_each_other_and_the_one_in_force_covers_warm_up_and_stragglers():
    steps = scenario.step_schedule(30.0, [10, 20, 45], 40.0)

    assert [(s.rate, s.start, s.end) for s in steps] == [(10, 30, 70), (20, 70, 110), (45, 110, 150)]
    assert scenario.step_index(steps, 5.0) == 0  # the logins' warm-up: at the first step's rate
    assert scenario.step_index(steps, 70.0) == 1
    assert scenario.step_index(steps, 200.0) == 2


def test_members_together_offer_each_steps_rate_and_change_at_the_boundary():
    steps = scenario.step_schedule(0.0, [10.0, 40.0], 100.0)
    members = 50
    rng = random.Random(3)
    # Every member acts, pauses (ramp_pause), acts again… : count the actions in each step.
    actions = Counter()
    for _member_index in range(members):
        moment = 0.0
        while True:
            moment += scenario.ramp_pause(moment, rng, steps, members, requests_per_action=1.0)
            if moment >= 200.0:
                break
            actions[scenario.step_index(steps, moment)] += 1

    assert actions[0] / 100 == pytest.approx(10.0, rel=0.1)
    assert actions[1] / 100 == pytest.approx(40.0, rel=0.1)


def test_a_pause_crossing_into_a_faster_step_is_drawn_again_from_the_boundary():
    steps = scenario.step_schedule(0.0, [1e-6, 1000.0], 10.0)  # almost nothing, then a flood

    pauses = [scenario.ramp_pause(5.0, random.Random(seed), steps, 1, 1.0) for seed in range(200)]

    # At 1e-6 action/s a pause would last days; redrawn at 1000/s from t=10, it ends just after 10.
    assert all(4.99 < pause < 5.1 for pause in pauses)
    assert scenario.ramp_pause(5.0, random.Random(1), steps, 1, requests_per_action=2.0) > 5.0


def test_capacity_settings_come_from_the_environment_and_stay_bounded():
    defaults = bench_load.read_capacity_settings({})
    trial = bench_load.read_capacity_settings({"PASSERELLES_LOAD_STEPS": "5, 10", "PASSERELLES_LOAD_STEP_SECONDS": "8",
                                               "PASSERELLES_LOAD_USERS": "20", "PASSERELLES_LOAD_RAMP_SECONDS": "4"})

    assert defaults.rates == bench_load.DEFAULT_STEPS and defaults.rates[0] == 10 and 60 in defaults.rates
    assert defaults.longest_seconds <= bench_load.MAX_RAMP_SECONDS <= 12 * 60
    assert (trial.rates, trial.step_seconds, trial.users, trial.warmup) == ((5.0, 10.0), 8.0, 20, 14.0)
    assert defaults.ramp == 200 * 4 / 10  # the arrivals come at the first step's rate
    for bad in ({"PASSERELLES_LOAD_STEPS": "20,10"}, {"PASSERELLES_LOAD_STEPS": "0,10"},
                {"PASSERELLES_LOAD_STEPS": "dix"}, {"PASSERELLES_LOAD_STEP_SECONDS": "0"},
                {"PASSERELLES_LOAD_STEP_SECONDS": "600"}):
        with pytest.raises(ValueError, match="PASSERELLES_LOAD_STEP|Rampe"):
            bench_load.read_capacity_settings(bad)
    assert not bench_load.comparison_asked({})
    assert bench_load.comparison_asked({"PASSERELLES_LOAD_TOPOLOGIES": "daphne,uvicorn"})
    assert bench_load.seed_scale({}) == 20 and bench_load.seed_scale({"PASSERELLES_LOAD_SCALE": "2"}) == 2


def test_the_memory_of_a_process_counts_its_children(tmp_path):
    parent = bench_load.Process("parent", [bench_load.sys.executable, "-c",
                                           "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
                                           "'import time; x = bytearray(40_000_000); time.sleep(30)']); "
                                           "time.sleep(30)"])
    parent.log = tmp_path / "parent.log"
    parent.start()
    try:
        deadline = bench_load.time.monotonic() + 10
        memory = bench_load.process_memory(parent)
        while len(memory["processes"]) < 2 and bench_load.time.monotonic() < deadline:
            bench_load.time.sleep(0.1)
            memory = bench_load.process_memory(parent)
        bench_load.time.sleep(0.5)
        memory = bench_load.process_memory(parent)
    finally:
        parent.stop()

    roles = sorted(m["role"] for m in memory["processes"])
    assert roles == ["enfant", "principal"]
    child = next(m for m in memory["processes"] if m["role"] == "enfant")
    assert child["rss_kb"] > 40_000  # its 40 MB buffer
    assert memory["rss_kb"] == sum(m["rss_kb"] for m in memory["processes"])
    assert bench_load.process_memory(parent)["rss_kb"] is None  # stopped: nothing to read


class FailingLater(StubSite):
    """The stub site, whose pages fail (503) from a given moment: the ramp must stop at that step."""

    failing_from = float("inf")

    def do_GET(self):
        if bench_load.time.monotonic() >= FailingLater.failing_from and self.path != "/compte/connexion/":
            self._answer(503)
        else:
            super().do_GET()


def test_a_short_locust_ramp_stops_after_the_first_step_that_fails(tmp_path, monkeypatch):
    site = ThreadingHTTPServer(("127.0.0.1", 0), FailingLater)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    chat = _stub_chat({}, origin="https://passerelles.example")  # the site's origin, not the server's port
    threading.Thread(target=chat.serve_forever, daemon=True).start()
    monkeypatch.setattr(bench_load, "database_connections", lambda: 3)
    monkeypatch.setattr(bench_load, "postgres_max_connections", lambda: 100)
    monkeypatch.setattr(bench_load, "BENCH_DIR", tmp_path)
    monkeypatch.setattr(bench_load, "LOCUST_START_S", 3.0)
    members = [Member(username=f"membre-{i}", password="x", room_id=1, forums=["/forum/f/"],
                      topics=["/forum/f/t/"], reply_targets=["/forum/f/t/repondre/"],
                      associations=["/annuaire/associations/a/"], guides=["/ressources/guide/"]) for i in range(5)]
    # A shared machine may slow the stub site and the client: what this test checks is the ramp's logic
    # (a step with 5xx fails, the next never runs), not the stub's latency.
    monkeypatch.setattr(bench_load, "TARGET_P95_MS", 5_000.0)
    steps = scenario.step_schedule(2.0, [30.0, 40.0, 50.0], 6.0)  # the third must never run
    port = site.server_address[1]
    http = [bench_load.Process("uvicorn", [], port)]
    ws = bench_load.Process("daphne", [], chat.socket.getsockname()[1])
    t0 = bench_load.time.monotonic() + bench_load.LOCUST_START_S
    # A second into the second step: a request of the first step answered just after its end stays good.
    FailingLater.failing_from = t0 + steps[1].start + 1.0
    plan = scenario.Plan(
        t0=t0, warmup=2.0, seconds=18.0, think=0.2, members=members, offsets=[0.0, 0.2, 0.4, 0.6, 0.8],
        http_ports={"uvicorn": [port]}, ws_port=ws.port, schedule=[scenario.Block("uvicorn", 2.0, 20.0)], seed=1,
        samples_path=str(tmp_path / "samples.json"), delivery_grace_s=1.0, steps=steps,
        page_origin="https://passerelles.example", p95_limit_ms=5_000.0,
        requests_per_action=Scenario(weights=scenario.ACTIONS, think_mean_s=1).requests_per_action())
    try:
        result = bench_load.measure_capacity(plan, [], http, ws)
    finally:
        site.shutdown()
        chat.shutdown()
        FailingLater.failing_from = float("inf")

    assert len(result["steps"]) == 2, result["judged_by_client"]  # the third step never ran
    first, second = result["steps"]
    assert first["sustained"], first
    assert first["achieved_per_s"] >= 0.8 * 30 and first["errors"] == 0
    assert first["chat"]["messages"] > 0 and first["chat"]["deliveries_missing"] == 0  # the handshake was accepted
    assert not second["sustained"] and second["error_kinds"].get("5xx")
    assert first["per_kind"]["home"]["n"] > 0 and second["per_kind"]["home"]["errors"] > 0
    assert result["capacity"]["capacity_per_s"] == 30.0 and result["capacity"]["first_failing_rate_per_s"] == 40.0
    assert [step["sustained"] for step in result["judged_by_client"]] == [True, False]
    assert result["memory"]["locust"]["rss_kb"] > 10_000  # the client's own VmRSS, written by the locustfile
    samples = json.loads((tmp_path / "samples.json").read_text())
    assert samples["stopped_at"] < steps[2].end  # Locust stopped early, without running the last step
