"""Deterministic embedders shipped with EigenLake (no model download, no network)."""

from .protein import ProteinEmbedder, embed_protein, load_proteins

__all__ = ["ProteinEmbedder", "embed_protein", "load_proteins"]
