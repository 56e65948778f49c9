"""The load test's own helpers (bench/bench_load.py) on synthetic data: no server, no timing."""

import asyncio
import random

import pytest

from bench import bench_load, framework
from bench.bench_load import Member, Sample, Scenario


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

    assert bench_load.percentile(values, 50) == pytest.approx(50.5)
    assert bench_load.percentile(values, 95) == pytest.approx(95.05)
    assert bench_load.percentile(values, 100) == 100
    assert bench_load.percentile([42.0], 99) == 42.0
    assert bench_load.percentile([], 95) is None


def test_percentile_does_not_depend_on_the_order_of_the_values():
    values = [float(v) for v in range(500)]
    shuffled = values[:]
    random.Random(1).shuffle(shuffled)

    assert bench_load.percentile(shuffled, 95) == bench_load.percentile(values, 95)


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
    assert bench_load.classify(status, expected) == error


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

    summary = bench_load.summarize(samples, window=(10.0, 40.0))

    assert summary["n"] == 100
    assert summary["requests_per_s"] == pytest.approx(100 / 30, abs=1e-3)
    assert summary["errors"] == 3
    assert summary["error_rate"] == pytest.approx(0.03)
    assert summary["error_kinds"] == {"5xx": 1, "timeout": 1, "connexion (ConnectionRefusedError)": 1}
    assert summary["p50_ms"] == pytest.approx(100.0)
    assert summary["max_ms"] == pytest.approx(30_000.0)


def test_summarize_filters_by_kind_and_copes_with_nothing():
    samples = [Sample("topic", 1.0, 0.1), Sample("search", 1.0, 0.3, error="4xx")]

    assert bench_load.summarize(samples, window=(0, 10), kinds=["search"])["error_rate"] == 1.0
    empty = bench_load.summarize(samples, window=(0, 10), kinds=["reply"])
    assert empty["n"] == 0
    assert empty["p95_ms"] is None
    assert empty["error_rate"] == 0.0


def test_actions_are_drawn_in_proportion_to_their_weights():
    scenario = Scenario(weights={"topic": 70, "search": 29, "reply": 1}, think_mean_s=20)
    rng = random.Random(3)

    drawn = [scenario.next_action(rng) for _ in range(20_000)]

    assert drawn.count("topic") / len(drawn) == pytest.approx(0.70, abs=0.02)
    assert drawn.count("search") / len(drawn) == pytest.approx(0.29, abs=0.02)
    assert 0 < drawn.count("reply") / len(drawn) < 0.02


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
    assert set(bench_load.ACTIONS) <= set(bench_load.KINDS)
    total = sum(bench_load.ACTIONS.values())
    assert bench_load.ACTIONS["reply"] / total <= 0.02
    member = _member()
    for action in bench_load.ACTIONS:
        assert bench_load.action_target(action, member, random.Random(0)).startswith("/")


def test_members_start_spread_over_the_ramp_up():
    offsets = bench_load.start_offsets(200, 60.0, random.Random(2))

    assert len(offsets) == 200
    assert offsets == sorted(offsets)
    assert 0 <= offsets[0] < 1 and 59 < offsets[-1] <= 60
    assert bench_load.start_offsets(3, 0, random.Random(2)) == [0.0, 0.0, 0.0]


def test_action_targets_are_the_members_own():
    member = _member()
    rng = random.Random(4)

    assert bench_load.action_target("topic", member, rng) in member.topics
    assert bench_load.action_target("reply", member, rng) == member.reply_targets[0]
    assert bench_load.action_target("chat_message", member, rng) == "/ws/discussions/7/"
    assert bench_load.action_target("search", member, rng).startswith("/recherche/?q=")


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


def test_the_page_parser_takes_the_form_a_browser_would_submit():
    page = bench_load.parse_page(PAGE)

    assert page.ws_url == "/ws/discussions/7/"
    assert len(page.forms) == 2
    form = page.form_with("content")
    assert form == [("csrfmiddlewaretoken", "tok"), ("subject", "Re: Réunion & suite"), ("content", "Bonjour"),
                    ("enable_signature", "on"), ("topic_type", "1"), ("attachment-TOTAL_FORMS", "0")]
    assert page.form_with("password") is None


def test_fill_form_replaces_and_adds_values():
    fields = [("csrfmiddlewaretoken", "tok"), ("username", ""), ("next", "")]

    filled = bench_load.fill_form(fields, {"username": "m.dupont", "password": "secret"})

    assert filled == [("csrfmiddlewaretoken", "tok"), ("username", "m.dupont"), ("next", ""),
                      ("password", "secret")]


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_the_http_client_reads_every_body_framing_and_cookies(framing):
    body = "é" * 3000

    async def answer(reader, writer):
        request = await reader.readuntil(b"\r\n\r\n")
        assert b"Connection: close" in request
        payload = body.encode()
        head = "HTTP/1.1 200 OK\r\nSet-Cookie: csrftoken=abc; Path=/\r\nSet-Cookie: sessionid=s1; HttpOnly\r\n"
        if framing == "length":
            writer.write(f"{head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
        elif framing == "chunked":
            chunks = b"".join(b"%x\r\n%s\r\n" % (len(payload[i:i + 1000]), payload[i:i + 1000])
                              for i in range(0, len(payload), 1000))
            writer.write(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode() + chunks + b"0\r\n\r\n")
        else:
            writer.write(f"{head}\r\n".encode() + payload)
        await writer.drain()
        writer.close()

    async def exchange():
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await bench_load.http_exchange("127.0.0.1", port, "GET", "/forum/", [("Accept", "text/html")])

    response = asyncio.run(exchange())

    assert response.status == 200
    assert response.text == body
    assert response.set_cookies == ["csrftoken=abc; Path=/", "sessionid=s1; HttpOnly"]


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
    schedule = bench_load.block_schedule(60.0, 600.0, ["daphne", "uvicorn"], block_s=30.0)

    assert [block.topology for block in schedule[:4]] == ["daphne", "uvicorn", "daphne", "uvicorn"]
    assert len(schedule) == 20
    assert schedule[0].start == 60.0 and schedule[-1].end == pytest.approx(660.0)
    assert all(a.end == pytest.approx(b.start) for a, b in zip(schedule, schedule[1:], strict=False))
    served = {name: sum(b.end - b.start for b in schedule if b.topology == name) for name in ("daphne", "uvicorn")}
    assert served == {"daphne": pytest.approx(300.0), "uvicorn": pytest.approx(300.0)}


def test_a_short_run_still_gives_every_topology_one_block():
    schedule = bench_load.block_schedule(15.0, 60.0, ["daphne", "uvicorn", "daphne-x2"], block_s=30.0)

    assert [block.topology for block in schedule] == ["daphne", "uvicorn", "daphne-x2"]
    assert schedule[-1].end == pytest.approx(75.0)


def test_the_serving_topology_follows_the_schedule_and_none_serves_the_ramp_up():
    schedule = bench_load.block_schedule(10.0, 40.0, ["daphne", "uvicorn"], block_s=10.0)

    assert bench_load.topology_at(schedule, 5.0) is None
    assert bench_load.topology_at(schedule, 10.0) == "daphne"
    assert bench_load.topology_at(schedule, 25.0) == "uvicorn"
    assert bench_load.topology_at(schedule, 49.9) == "uvicorn"
    assert bench_load.topology_at(schedule, 80.0) == "uvicorn"  # stragglers after the end: the last block


def test_the_router_warms_every_topology_up_then_sends_http_to_the_serving_one():
    schedule = bench_load.block_schedule(10.0, 20.0, ["daphne", "daphne-x2"], block_s=10.0)
    router = bench_load.Router({"daphne": [8000], "daphne-x2": [8001, 8002]}, ws_port=8000, schedule=schedule)

    warmup = [router.topology(1.0) for _ in range(4)]
    assert warmup == ["daphne", "daphne-x2", "daphne", "daphne-x2"]
    assert router.topology(12.0) == "daphne"
    assert [router.http_port("daphne-x2") for _ in range(4)] == [8001, 8002, 8001, 8002]
    assert router.ws == 8000


def test_summarize_keeps_one_topology_and_its_own_serving_time():
    samples = [Sample("topic", 20.0, 0.1, topology="daphne"), Sample("topic", 21.0, 0.2, topology="daphne"),
               Sample("topic", 40.0, 0.3, error="5xx", topology="uvicorn")]

    daphne = bench_load.summarize(samples, window=(10.0, 70.0), topology="daphne", seconds=30.0)

    assert daphne["n"] == 2
    assert daphne["errors"] == 0
    assert daphne["requests_per_s"] == pytest.approx(2 / 30, abs=1e-3)
    assert bench_load.summarize(samples, window=(10.0, 70.0), topology="uvicorn")["errors"] == 1
