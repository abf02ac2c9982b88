"""Results files keep their hand-written notes: a benchmark rewrites what it generates, and
whatever follows ``NOTES_MARKER`` in the file stays as it was."""

from __future__ import annotations

from pathlib import Path

NOTES_MARKER = "<!-- notes: kept when the bench rewrites this file -->"


def write_keeping_notes(path: Path, generated: str) -> None:
    """Write ``generated`` to ``path``, followed by the notes the file held (if any)."""
    old = path.read_text() if path.exists() else ""
    notes = old[old.index(NOTES_MARKER) :] if NOTES_MARKER in old else ""
    text = generated.rstrip("\n") + "\n"
    path.write_text(text + ("\n" + notes if notes else ""))
