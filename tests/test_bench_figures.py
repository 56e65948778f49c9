"""The README quotes the benches' figures from bench/results/*.json (bench/figures.py), never from memory."""

import json

from bench import figures


def test_the_readme_quotes_exactly_the_committed_results():
    quoted = figures.readme_block(figures.README.read_text())
    assert quoted is not None, "README.md a perdu les repères du bloc des chiffres des bancs"
    assert quoted == figures.block(), "lancez .venv/bin/python bench/figures.py --write après un banc"


def test_the_block_follows_the_results(tmp_path, monkeypatch):
    """A figure changed in a result changes the block (so the test above can fail)."""
    result = json.loads((figures.RESULTS / "pages.json").read_text())
    monkeypatch.setattr(figures, "RESULTS", tmp_path)
    (tmp_path / "pages.json").write_text(json.dumps(result))
    before = figures.block()
    result["results"][1]["cpu_p50_ms"] = 123.4
    (tmp_path / "pages.json").write_text(json.dumps(result))
    after = figures.block()
    assert before != after and "123,4" in after and "123,4" not in before
