"""Run the benchmarks (`make bench`): `python bench/run.py [NAME ...] [--requests N]`.

Each benchmark runs in its own Python process, so that it can point Django at its own database
before settings are read; results go to bench/results/<name>.json and a table is printed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import framework  # noqa: E402


def discover() -> dict[str, framework.Benchmark]:
    for path in sorted((ROOT / "bench").glob("bench_*.py")):
        importlib.import_module(f"bench.{path.stem}")
    return framework.REGISTRY


# The exit status of a benchmark refused on a busy machine (nothing measured, nothing written).
BUSY_EXIT = 3


def run_in_this_process(name: str) -> int:
    """Child side: a quiet machine first, then the environment, Django and the benchmark.

    Returns the exit status: 0, or BUSY_EXIT when the machine stayed busy (framework.busy_reason) and
    PASSERELLES_BENCH_ALLOW_BUSY=1 was not given: then nothing runs and no result is written."""
    benchmark = discover()[name]
    load_at_start, busy = framework.wait_until_quiet()
    if busy and not framework.busy_allowed():
        print(f"{name} : banc refusé, {busy}. Relancez-le sur une machine au repos "
              f"(ou avec {framework.ALLOW_BUSY_VARIABLE}=1, le résultat est alors marqué « busy_machine »).",
              file=sys.stderr, flush=True)
        return BUSY_EXIT
    os.environ.update(benchmark.environment())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    print(f"== {benchmark.title} ({name})", flush=True)
    report = benchmark.run()
    # The load at the end includes the benchmark's own processes: recorded, not judged.
    machine = {**framework.machine_info(), "load_at_start": load_at_start, "load_at_end": framework.machine_load(),
               "busy_machine": bool(busy)}
    result = {
        "benchmark": name,
        "title": benchmark.title,
        "machine": machine,
        "data": report.data,
        "parameters": report.parameters,
        "results": report.rows,
    }
    framework.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    # SQLite results in <name>.json; another database (DATABASE_URL) in <name>.<vendor>.json beside them.
    vendor = result["machine"]["database_vendor"]
    path = framework.RESULTS_DIR / (f"{name}.json" if vendor == "sqlite" else f"{name}.{vendor}.json")
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(framework.format_table(report.rows))
    print(f"Données : {json.dumps(report.data, ensure_ascii=False)}")
    print(f"Résultats écrits dans {path.relative_to(ROOT)}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmarks de Passerelles")
    parser.add_argument("names", nargs="*", help="benchmarks à lancer (tous par défaut)")
    parser.add_argument("--list", action="store_true", help="lister les benchmarks et s'arrêter")
    parser.add_argument("--requests", type=int, help="nombre de requêtes mesurées par page")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.requests:
        os.environ["PASSERELLES_BENCH_REQUESTS"] = str(args.requests)
    if args.child:
        return run_in_this_process(args.child)

    registry = discover()
    if args.list:
        for benchmark in registry.values():
            print(f"{benchmark.name}\t{benchmark.title}")
        return 0
    unknown = [name for name in args.names if name not in registry]
    if unknown:
        parser.error(f"benchmark inconnu : {', '.join(unknown)} (disponibles : {', '.join(registry)})")

    failures = []
    names = args.names or list(registry)
    for name in names:
        completed = subprocess.run([sys.executable, __file__, "--child", name], cwd=ROOT, check=False)
        if completed.returncode != 0:
            failures.append((name, completed.returncode))
    if failures:
        print(f"Échec : {', '.join(name for name, _code in failures)}", file=sys.stderr)
        # One benchmark asked: its own status (3 busy machine, 2 a service missing), for scripts to tell apart.
        return failures[0][1] if len(names) == 1 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
