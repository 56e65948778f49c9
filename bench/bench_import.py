"""Network import (issue 14): a generated 10 000-row file (150 associations and their people).

Measures reading and checking the file (the preview the admin shows before confirming), the full
import that writes everything through directory.services, then both again once everything is in the
database (every row unchanged). Runs on its own SQLite file, var/bench/import.sqlite3, emptied at each
run so that the first import really creates everything.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.framework import (
    BENCH_DIR,
    Report,
    count_queries,
    measure,
    production_like_environment,
    register,
    timings_summary,
)

DATABASE = BENCH_DIR / "import.sqlite3"
ASSOCIATIONS = 150
ROWS = 10_000
PREVIEW_RUNS = 3


def environment() -> dict[str, str]:
    return production_like_environment(DATABASE_URL=f"sqlite:///{DATABASE}")


def _siret(number: int) -> str:
    from directory.siret import luhn_is_valid

    prefix = f"{number:013d}"
    return next(prefix + digit for digit in "0123456789" if luhn_is_valid(prefix + digit))


def generate_file() -> bytes:
    """CSV (`;`, UTF-8 with BOM) of ASSOCIATIONS associations and ROWS - ASSOCIATIONS people."""
    import tablib

    from directory import network_import
    from directory.models import Juridiction

    juridictions = list(Juridiction.objects.select_related("cour__region").order_by("pk"))
    data = tablib.Dataset(headers=network_import.COLUMN_KEYS)
    empty = dict.fromkeys(network_import.COLUMN_KEYS, "")
    sirets = []
    for index in range(ASSOCIATIONS):
        juridiction = juridictions[index % len(juridictions)]
        siret = _siret(1_000_000_000 + index)
        sirets.append((siret, juridiction.cour.region.name))
        data.append(list({**empty, "type": "association", "siret": siret, "nom": f"Association de mesure {index}",
                          "ville": juridiction.name.split()[-1], "departement": f"{index % 95 + 1:02d}",
                          "region": juridiction.cour.region.name, "statut": "adhérente",
                          "juridictions": juridiction.name, "salaries": str(5 + index % 120)}.values()))
    for index in range(ROWS - ASSOCIATIONS):
        siret, region_name = sirets[index % ASSOCIATIONS]
        position = index // ASSOCIATIONS
        roles, scope = {0: ("directeur", ""), 1: ("président·e", ""), 2: ("membre|DICA", region_name)}.get(
            position, ("intervenant", ""))
        data.append(list({**empty, "type": "personne", "siret": siret, "nom": f"Nom{index}",
                          "prenom": f"Prénom{index % 400}", "courriel": f"personne{index}@exemple.org",
                          "fonction": "Intervenant·e socio-judiciaire", "roles": roles, "portee": scope}.values()))
    return ("\ufeff" + data.export("csv", delimiter=";")).encode("utf-8")


def _timed_once(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


@register("import", "Import du réseau : fichier de 10 000 lignes", environment=environment)
def import_network() -> Report:
    from django.core.management import call_command
    from django.db import connection

    from directory import network_import
    from directory.models import Association, User

    connection.close()
    for path in (DATABASE, Path(f"{DATABASE}-wal"), Path(f"{DATABASE}-shm")):
        path.unlink(missing_ok=True)
    print("Migrations (base vide)…", flush=True)
    call_command("migrate", interactive=False, verbosity=0)

    content = generate_file()
    print(f"  fichier : {ROWS} lignes, {len(content) // 1024} Kio", flush=True)
    rows = []

    def preview():
        result = network_import.preview_file(content, "reseau.csv")
        assert not result.has_refusals, [r.detail for r in result.rows if r.refused][:3]
        return result

    print("  prévisualisation, base vide…", flush=True)
    durations = measure(preview, n=PREVIEW_RUNS, warmup=0)
    rows.append({"name": "prévisualisation (tout à créer)", **timings_summary(durations),
                 "queries": count_queries(preview, repeats=1)})

    print("  import complet…", flush=True)
    outcome = {}
    duration = _timed_once(lambda: outcome.setdefault("result", network_import.import_file(content, "reseau.csv")))
    created = outcome["result"].preview.created
    rows.append({"name": "import complet (tout créé)", **timings_summary([duration])})

    print("  prévisualisation, tout déjà importé…", flush=True)
    durations = measure(preview, n=PREVIEW_RUNS, warmup=0)
    rows.append({"name": "prévisualisation (tout inchangé)", **timings_summary(durations),
                 "queries": count_queries(preview, repeats=1)})

    print("  réimport du même fichier…", flush=True)
    again = {}
    duration = _timed_once(lambda: again.setdefault("result", network_import.import_file(content, "reseau.csv")))
    rows.append({"name": "réimport (tout inchangé)", **timings_summary([duration])})

    data = {
        "rows": ROWS,
        "associations_in_file": ASSOCIATIONS,
        "people_in_file": ROWS - ASSOCIATIONS,
        "file_bytes": len(content),
        "created_rows": created,
        "unchanged_on_reimport": again["result"].preview.unchanged,
        "associations": Association.objects.count(),
        "people": User.objects.count(),
    }
    parameters = {"preview_runs": PREVIEW_RUNS, "format": "csv ; utf-8", "debug": False,
                  "cpu_count": os.cpu_count()}
    return Report(rows=rows, data=data, parameters=parameters)
