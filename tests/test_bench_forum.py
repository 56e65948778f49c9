"""The forum bench's arithmetic and its reference (bench/http_bench.py, bench/bench_forum.py,
bench/machina_stock.py): ratios are taken round by round, the verdict allows no slack above 1.0, and the
"machina" servers really run machina's classes, not ours."""

from __future__ import annotations

import pytest

from bench import bench_forum, http_bench
from bench.http_bench import Block


def _blocks(ours: list[tuple[list[float], float]], stock: list[tuple[list[float], float]]) -> list[Block]:
    blocks = []
    for round_, ((ours_wall, ours_cpu), (stock_wall, stock_cpu)) in enumerate(zip(ours, stock, strict=True)):
        blocks += [Block("nous", round_, ours_wall, ours_cpu), Block("machina", round_, stock_wall, stock_cpu)]
    return blocks


def test_ratios_compare_each_round_with_itself_then_give_min_and_median():
    # Round 0: ours 0.10 s vs 0.20 s (machine quiet); round 1: 0.45 vs 0.50 (busy); round 2: 0.30 vs 0.25.
    blocks = _blocks(ours=[([0.10, 0.10, 0.11], 0.15), ([0.45, 0.44, 0.46], 0.30), ([0.30, 0.30, 0.31], 0.30)],
                     stock=[([0.20, 0.20, 0.21], 0.30), ([0.50, 0.50, 0.51], 0.30), ([0.25, 0.25, 0.26], 0.20)])

    ratios = http_bench.ratios(blocks, "nous", "machina")

    assert ratios["rounds"] == 3
    assert ratios["wall_min"] == 0.5 and ratios["wall_median"] == 0.9 and ratios["wall_max"] == 1.2
    assert ratios["cpu_min"] == 0.5 and ratios["cpu_median"] == 1.0 and ratios["cpu_max"] == 1.5


def test_the_verdict_allows_nothing_above_one():
    equal = {"wall_median": 1.0, "cpu_median": 1.0}
    assert http_bench.verdict(equal)["not_slower"]
    assert not http_bench.verdict({**equal, "wall_median": 1.01})["not_slower"]
    cpu_slower = http_bench.verdict({**equal, "cpu_median": 1.03})
    assert cpu_slower["wall_ok"] and not cpu_slower["cpu_ok"] and not cpu_slower["not_slower"]
    assert not http_bench.verdict({**equal, "cpu_median": None})["not_slower"]  # CPU not measured: no pass


def test_rounds_alternate_the_order_of_the_servers():
    assert http_bench.round_order(["a", "b", "c"], 0) == ["a", "b", "c"]
    assert http_bench.round_order(["a", "b", "c"], 1) == ["c", "b", "a"]


def test_a_variant_summary_gives_latency_and_cpu_per_request():
    blocks = [Block("nous", 0, [0.010, 0.030], 0.02), Block("nous", 1, [0.020, 0.040], 0.04),
              Block("machina", 0, [1.0, 1.0], 1.0)]

    summary = http_bench.variant_summary(blocks, "nous")

    assert summary["n"] == 4 and summary["min_ms"] == 10.0 and summary["p50_ms"] == 25.0 and summary["max_ms"] == 40.0
    assert summary["mean_ms"] == 25.0 and summary["server_cpu_ms_per_request"] == 15.0


def test_the_bench_database_is_never_the_search_benchs():
    assert bench_forum.forum_database_url({}).startswith("sqlite:///")
    assert bench_forum.forum_database_url({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/passerelles_bench"}) \
        == "postgres://postgres@127.0.0.1:5432/passerelles_bench_forum"
    assert bench_forum.forum_database_url({"PASSERELLES_FORUM_DATABASE_URL": "postgres://h/x_bench",
                                           "DATABASE_URL": "postgres://h/y"}) == "postgres://h/x_bench"


def test_parameters_require_ours_and_machina_as_shipped():
    assert bench_forum.read_parameters({})["variants"] == ["nous", "machina", "machina-gabarits"]
    assert bench_forum.read_parameters({"PASSERELLES_BENCH_REQUESTS": "50"})["block"] == 9  # 6 rounds of 9
    with pytest.raises(ValueError):
        bench_forum.read_parameters({"PASSERELLES_FORUM_VARIANTS": "nous,machina-gabarits"})


def test_stock_machina_gives_machinas_classes_and_puts_ours_back():
    from machina.apps.forum_permission import handler as machina_handler
    from machina.apps.forum_permission import middleware as machina_middleware

    from bench.machina_stock import stock_machina
    from directory import access
    from forum.overrides.forum_permission import handler as our_handler

    assert type(access.forum_permission_handler()) is our_handler.PermissionHandler
    with stock_machina() as swapped:
        assert swapped > 0
        assert type(access.forum_permission_handler()) is machina_handler.PermissionHandler
        assert machina_middleware.PermissionHandler is machina_handler.PermissionHandler
    assert type(access.forum_permission_handler()) is our_handler.PermissionHandler
    assert machina_middleware.PermissionHandler is our_handler.PermissionHandler
