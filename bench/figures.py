"""The performance figures the README quotes, made from bench/results/*.json and nothing else.

    .venv/bin/python bench/figures.py          # prints the block
    .venv/bin/python bench/figures.py --write  # replaces it in README.md, between its two markers

tests/test_bench_figures.py fails when README.md's block differs from what the committed results give,
so a figure is never quoted from memory, nor left behind when a bench is run again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
README = ROOT / "README.md"
BEGIN = "<!-- chiffres des bancs : bench/figures.py --write -->"
END = "<!-- fin des chiffres des bancs -->"


def _load(name: str) -> dict | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def _when(result: dict) -> str:
    machine = result["machine"]
    load = machine.get("load_at_start", {}).get("load_1m")
    return (f"{machine['timestamp'][:10]}, {machine['cpu_cores']} cœurs {machine.get('cpu_model', '')}".rstrip()
            + (f", charge au départ {_number(load)}" if load is not None else "")
            + f", {machine['database_vendor']}")


def _number(value: float) -> str:
    """French decimal comma, one decimal at most."""
    return f"{round(value, 1):g}".replace(".", ",")


def pages_lines(result: dict) -> list[str]:
    lines = [f"- **CPU serveur par page** (`bench/results/pages.json`, {_when(result)}), médiane en ms, "
             "démo → échelle 20 :"]
    by_page: dict[str, dict[int, dict]] = {}
    for row in result["results"]:
        by_page.setdefault(row["page"], {})[row["scale"]] = row
    for rows in by_page.values():
        demo, big = rows.get(1), rows.get(20)
        if demo is None:
            continue
        label = demo["name"].rsplit(", échelle", 1)[0]
        figures = _number(demo["cpu_p50_ms"]) + (f" → {_number(big['cpu_p50_ms'])}" if big else "")
        target = demo.get("target")
        verdict = "" if target in (None, "référence") else f" (objectif {target} : {demo['status']}" + (
            f", échelle 20 : {big['status']})" if big else ")")
        lines.append(f"  {label} {figures}{verdict} ;")
    lines[-1] = lines[-1].rstrip(" ;") + "."
    return lines


def load_lines(result: dict) -> list[str]:
    data = result["data"]
    memory = ", ".join(f"{name} {round(entry['rss_kb'] / 1024)} Mo" for name, entry in data["memory_at_end"].items())
    steps = " ; ".join(f"{_number(step['offered_per_s'])} req/s offertes : p95 {_number(step['p95_ms'])} ms, "
                      f"{step['errors']} erreur(s), {'tenu' if step['sustained'] else 'non tenu'}"
                      for step in data["steps"])
    return [f"- **Capacité** (`bench/results/load.postgresql.json`, {_when(result)}, échelle {data['scale']}, "
            f"{data['topology']}) : **{_number(data['capacity_per_s'])} req/s** tenues (objectif ≥ "
            f"{_number(data['target']['capacity_per_s_at_least'])} : {data['verdict']}) ; paliers : {steps} ; "
            f"mémoire à la fin : {memory}."]


def chat_lines(result: dict) -> list[str]:
    data, ours = result["data"], result["data"]["phases"]["ours"]
    targets = data["targets"]
    labels = {"p95_ms": "p95 (ms)", "p99_ms": "p99 (ms)", "reconnect_s": "reconnexion de tous (s)"}
    verdicts = ", ".join(f"{labels.get(name, name)} {_number(t['measured'])} (objectif {_number(t['target'])} : "
                         f"{'atteint' if t['met'] else 'non atteint'})" for name, t in targets.items())
    return [f"- **Discussions** (`bench/results/chat.postgresql.json`, {_when(result)}) : un salon de "
            f"{data['room_members']} membres sur 2 daphne, p50 {_number(ours['latency']['p50_ms'])} ms ; {verdicts} ; "
            f"débit {_number(data['ratios']['throughput_ratio'] * 100)} % de la référence group_send directe."]


def forum_lines(result: dict) -> list[str]:
    data = result["data"]
    pages = data.get("pages", {})
    parts = []
    for page, entry in pages.items():
        ratios = entry.get("ratios", {}).get("machina")
        if ratios:
            parts.append(f"{page} {ratios['cpu_median']:.2f}".replace(".", ","))
    not_slower = data.get("all_pages_not_slower")
    verdict = None if not_slower is None else ("toutes les pages ≤ 1,0 : atteint" if not_slower
                                               else "une page au moins > 1,0 : non atteint")
    return [f"- **Forum face à machina tel que livré** (`bench/results/forum.json`, {_when(result)}, par HTTP, "
            f"{data.get('forums', '?')} forums) : rapport de CPU nous/machina (médiane des manches) : "
            + (" ; ".join(parts) or "—") + (f" ; verdict : {verdict}" if verdict else "") + "."]


def block() -> str:
    lines = [BEGIN]
    for name, make in (("pages.json", pages_lines), ("load.postgresql.json", load_lines),
                       ("chat.postgresql.json", chat_lines), ("forum.json", forum_lines)):
        result = _load(name)
        if result is not None:
            lines.extend(make(result))
    lines.append(END)
    return "\n".join(lines)


def readme_block(text: str) -> str | None:
    start, stop = text.find(BEGIN), text.find(END)
    if start < 0 or stop < start:
        return None
    return text[start:stop + len(END)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Chiffres des bancs cités par le README")
    parser.add_argument("--write", action="store_true", help="remplacer le bloc dans README.md")
    args = parser.parse_args(argv)
    new = block()
    if not args.write:
        print(new)
        return 0
    text = README.read_text()
    old = readme_block(text)
    if old is None:
        print(f"README.md n'a pas les repères {BEGIN!r} et {END!r}.", file=sys.stderr)
        return 1
    README.write_text(text.replace(old, new))
    return 0


if __name__ == "__main__":
    sys.exit(main())
