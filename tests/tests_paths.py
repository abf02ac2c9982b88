"""Paths the tests share (importable because pytest puts this directory on sys.path)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
