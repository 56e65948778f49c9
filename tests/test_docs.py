"""The project documents itself: what the code and the documentation cite is in the repository.

Comments cite the project's own pages (`docs/architecture.md, Search`, `chat/PROTOCOL.md`), never
design notes kept elsewhere; links between pages resolve; a cited section of docs/architecture.md
is one of its headings.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {".git", ".venv", "node_modules", "var", "__pycache__", "results"}
SUFFIXES = {".py", ".html", ".js", ".css", ".md", ".txt", ".toml", ".cfg", ".ini", ".yml", ".yaml"}
# Design notes that live outside the repository: code must not send a reader there.
OUTSIDE = re.compile(r"\b(?:ARCHITECTURE|DOMAIN|STYLE)\.md\b|\.\./shared/")
CITED_PAGE = re.compile(r"\b((?:docs/[\w./-]+|[a-z_]+/[A-Z_]+)\.md)\b")
CITED_SECTION = re.compile(r"docs/architecture\.md,\s+([A-Z][^)\n.:;\"]*)")
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def project_files() -> list[Path]:
    this = Path(__file__).resolve()
    return sorted(
        path for path in ROOT.rglob("*")
        if path.suffix in SUFFIXES and path.is_file() and path.resolve() != this
        and not SKIPPED_DIRS & set(path.relative_to(ROOT).parts)
    )


def test_nothing_cites_design_notes_kept_outside_the_repository():
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in project_files()
             for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
             if OUTSIDE.search(line)]
    assert found == []


def test_every_page_cited_in_the_code_exists():
    missing = sorted({
        f"{path.relative_to(ROOT)} cites {page}"
        for path in project_files()
        for page in CITED_PAGE.findall(path.read_text(encoding="utf-8", errors="replace"))
        if page.startswith("docs/") or page.split("/")[0] in {p.name for p in ROOT.iterdir() if p.is_dir()}
        if not (ROOT / page).is_file()
    })
    assert missing == []


def test_every_cited_section_of_the_architecture_page_exists():
    headings = {line.lstrip("#").strip().lower()
                for line in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8").splitlines()
                if line.startswith("#")}
    missing = []
    for path in project_files():
        # A comment continued on the next line ("…docs/architecture.md,\n# Search)") reads as one line.
        text = re.sub(r"\n\s*#\s*", " ", path.read_text(encoding="utf-8", errors="replace"))
        for section in CITED_SECTION.findall(text):
            if section.strip().lower() not in headings:
                missing.append(f"{path.relative_to(ROOT)} cites the section {section.strip()!r}")
    assert missing == []


def test_links_between_pages_resolve():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted(ROOT.glob("*/*.md"))]
    broken = [
        f"{page.relative_to(ROOT)} links to {target}"
        for page in pages if page.is_file() and not SKIPPED_DIRS & set(page.relative_to(ROOT).parts)
        for target in MARKDOWN_LINK.findall(page.read_text(encoding="utf-8"))
        if "://" not in target and not target.startswith("mailto:")
        if not (page.parent / target).exists()
    ]
    assert broken == []
