"""The main job: EigenLake's Cookbook 2 (clustering) end to end, embedded, on bundled data.

Runs every step of the cookbook on `data/proteins.tsv.gz` (8,055 venom/toxin proteins with
family labels): embed (deterministic k-mer embedder), create the index with the cookbook's
schema, ingest, DBSCAN (step 4), auto-tuned k-means (step 5), multi-scale (step 6), the agent
path, and the "auto-tag" variation that writes cluster_id back. It prints cluster sizes,
representatives with their family, agreement with the family labels (ARI, purity) and
timings, and writes a 2-D PCA plot to out/. Usage: `make main` or
`python examples/cookbook_clustering.py [--data PATH] [--out DIR]`.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

import eigenlake
from _metrics import adjusted_rand_index, purity
from eigenlake import schema as s
from eigenlake.embed import ProteinEmbedder, load_proteins

REPO = Path(__file__).resolve().parents[1]
DIM = 320
timings: dict[str, float] = {}


def timed(name: str, fn: Any, *args: Any, **kw: Any) -> Any:
    t = time.perf_counter()
    out = fn(*args, **kw)
    timings[name] = time.perf_counter() - t
    return out


def agreement(name: str, result: dict[str, Any], family_of: dict[str, str]) -> None:
    """ARI and purity of the clustered records that have a family label (noise left out)."""
    truth, pred = [], []
    for c in result["clusters"]:
        for m in c["members"]:
            fam = family_of[m["uuid"]]
            if fam != "Unknown":
                truth.append(fam)
                pred.append(c["cluster_id"])
    if not pred:
        print(f"  {name}: nothing clustered")
        return
    ari, pur = adjusted_rand_index(truth, pred), purity(truth, pred)
    print(f"  {name}: ARI {ari:.3f}, purity {pur:.3f} over {len(pred)} labelled members")


def show_clusters(result: dict[str, Any], top: int = 8) -> None:
    for c in result["clusters"][:top]:
        print(f"  cluster {c['cluster_id']}: {c['count']} sequences")
        for rep in c["representatives"]:
            meta = rep["metadata"]
            print(f"    - {meta['accession']} ({meta['protein_family']}) d={rep['distance']:.3f}")
    if len(result["clusters"]) > top:
        print(f"  ... {len(result['clusters']) - top} more clusters")


def plot(vectors: np.ndarray, labels: np.ndarray, path: Path, title: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install 'eigenlake[plot]'): plot skipped")
        return
    centred = vectors - vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)  # PCA by SVD
    xy = centred @ vt[:2].T
    fig, ax = plt.subplots(figsize=(8, 6), dpi=120)
    noise = labels < 0
    ax.scatter(xy[noise, 0], xy[noise, 1], s=3, c="lightgrey", label="noise")
    ax.scatter(xy[~noise, 0], xy[~noise, 1], s=3, c=labels[~noise], cmap="tab20")
    ax.set(title=title, xlabel="PC 1", ylabel="PC 2")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    print(f"plot written to {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(REPO / "data" / "proteins.tsv.gz"))
    ap.add_argument("--out", default=str(REPO / "out"))
    args = ap.parse_args()
    out = Path(args.out)
    db = out / "cookbook-db"
    shutil.rmtree(db, ignore_errors=True)  # fresh store each run
    out.mkdir(parents=True, exist_ok=True)

    rows = load_proteins(args.data)
    embed = ProteinEmbedder(DIM)
    t = time.perf_counter()
    vectors = np.vstack([embed(r["sequence"]) for r in tqdm(rows, desc="embed", unit="seq")])
    timings["embed"] = time.perf_counter() - t

    # Step 2: the cookbook's schema.
    schema, index_options = (
        s.SchemaBuilder(additional_properties=False)
        .add("accession", s.string(required=True, filterable=True))
        .add("organism", s.string(filterable=True))
        .add("protein_family", s.string(filterable=True))
        .add("sequence", s.string(filterable=False))
        .add("length", s.integer(filterable=True))
        .build()
    )
    with eigenlake.connect(path=str(db)) as client:
        idx = client.indexes.create_or_get(
            namespace="cookbook-02",
            index="protein-clustering",
            dimensions=DIM,
            schema=schema,
            index_options=index_options,
        )
        # Step 3: ingest.
        payload = [
            {
                "properties": {
                    "accession": r["accession"],
                    "organism": r["organism"] or "Unknown",
                    "protein_family": r["family"] or "Unknown",
                    "sequence": r["sequence"],
                    "length": len(r["sequence"]),
                },
                "vector": v,
            }
            for r, v in zip(rows, vectors, strict=True)
        ]
        result = timed("add_many", idx.records.add_many, payload, on_error="continue")
        print(f"inserted {len(result)} of {len(payload)} sequences ({result.number_errors} errors)")
        family_of = {
            u: p["properties"]["protein_family"] for u, p in zip(result, payload, strict=True)
        }

        # Step 4: DBSCAN for discovery.
        clusters = timed(
            "dbscan",
            idx.search.cluster,
            filter={"length": {"$gte": 100}},
            limit=10_000,
            algorithm="dbscan",
            dbscan_min_samples=5,
            distance_metric="cosine",
            representatives_per_cluster=3,
        )
        p = clusters["parameters"]
        print(
            f"\nDBSCAN (length >= 100): {len(clusters['clusters'])} clusters, eps={p['dbscan_eps']:.4f} ({p['dbscan_eps_source']})"
        )
        print(f"  k-distance curve quantiles: {p['k_distance_quantiles']}")
        show_clusters(clusters)
        print(f"  noise: {clusters.get('noise_count', 0)} sequences")
        agreement("DBSCAN vs family", clusters, family_of)
        # eps was picked automatically above (parameters["dbscan_eps_candidates"] shows the
        # candidates and their scores); a user who knows the scale sets it, as here.
        explicit = timed(
            "dbscan_eps_0.35",
            idx.search.cluster,
            filter={"length": {"$gte": 100}},
            limit=10_000,
            algorithm="dbscan",
            dbscan_eps=0.35,
            dbscan_min_samples=5,
            representatives_per_cluster=1,
        )
        print(
            f"DBSCAN with dbscan_eps=0.35: {len(explicit['clusters'])} clusters, noise {explicit['noise_count']}"
        )
        print("  largest:", [c["count"] for c in explicit["clusters"][:10]])
        agreement("DBSCAN eps=0.35 vs family", explicit, family_of)

        # Step 5: k-means for fixed routing, k auto-tuned by silhouette in 8..15.
        kmeans_clusters = timed(
            "kmeans_auto_tune",
            idx.search.cluster,
            filter={"length": {"$gte": 100}},
            limit=10_000,
            algorithm="kmeans",
            auto_tune=True,
            min_clusters=8,
            max_clusters=15,
            distance_metric="cosine",
            representatives_per_cluster=3,
        )
        kp = kmeans_clusters["parameters"]
        scores = ", ".join(f"{x['num_clusters']}:{x['silhouette']:.3f}" for x in kp["scores"])
        print(f"\nk-means: selected k={kp['num_clusters']} (silhouette by k: {scores})")
        print("  sizes:", [c["count"] for c in kmeans_clusters["clusters"]])
        show_clusters(kmeans_clusters, top=3)
        agreement("k-means vs family", kmeans_clusters, family_of)

        # Step 6: multi-scale. Coarse DBSCAN, then k-means inside the largest coarse cluster,
        # selected by filtering on its members' accessions (the cookbook's "in production").
        coarse = timed(
            "multiscale_coarse",
            idx.search.cluster,
            filter={"length": {"$gte": 100}},
            limit=10_000,
            algorithm="dbscan",
            dbscan_min_samples=20,
            distance_metric="cosine",
            representatives_per_cluster=0,
        )
        fine: dict[str, Any] = {"clusters": []}
        if coarse["clusters"]:
            largest = max(coarse["clusters"], key=lambda c: c["count"])
            accession_of = {
                u: p["properties"]["accession"] for u, p in zip(result, payload, strict=True)
            }
            members = [accession_of[m["uuid"]] for m in largest["members"]]
            fine = timed(
                "multiscale_fine",
                idx.search.cluster,
                filter={"accession": {"$in": members}},
                limit=5_000,
                algorithm="kmeans",
                auto_tune=True,
                min_clusters=3,
                max_clusters=8,
                text_fields=["protein_family", "organism"],
            )
            print(
                f"\nmulti-scale: {len(coarse['clusters'])} coarse clusters; largest has {largest['count']}"
            )
            for c in fine["clusters"]:
                print(f"  subcluster {c['cluster_id']}: {c['count']} — {c['summary']}")
            agreement("fine k-means vs family", fine, family_of)

        # Agent path.
        agent_result = timed(
            "agent",
            idx.agent.query,
            "Cluster proteins by structural family",
            mode="cluster",
            algorithm="dbscan",
            dbscan_min_samples=5,
        )
        print(f"\nagent: action={agent_result['action']} filter={agent_result['filter']}")
        print(f"  {agent_result['explanation']}")
        for c in agent_result["clusters"][:8]:
            print(f"  {c['count']} sequences: {c['summary']}")
        agent_long = idx.agent.query("group proteins longer than 300 residues", num_clusters=5)
        print(
            f"  'group proteins longer than 300 residues' -> {agent_long['action']} {agent_long['filter']}: {[c['count'] for c in agent_long['clusters']]}"
        )

        # Variation: auto-tag records with their DBSCAN cluster.
        t = time.perf_counter()
        for c in clusters["clusters"]:
            for member in c.get("members", []):
                idx.records.update(member["uuid"], properties={"cluster_id": c["cluster_id"]})
        timings["update_cluster_id"] = time.perf_counter() - t
        tagged = idx.records.list(filter={"cluster_id": {"$eq": 0}}, limit=10_000)["objects"]
        print(f"\nauto-tag: cluster_id written; {len(tagged)} records now have cluster_id == 0")

    labels = np.full(len(rows), -1)
    uuid_row = {u: i for i, u in enumerate(result)}
    for c in kmeans_clusters["clusters"]:
        for m in c["members"]:
            labels[uuid_row[m["uuid"]]] = c["cluster_id"]
    shown = labels >= 0
    plot(
        vectors[shown],
        labels[shown],
        out / "cookbook_clusters.png",
        f"k-means (k={kp['num_clusters']}) on proteins >= 100 aa, PCA",
    )

    print("\ntimings (s):")
    for name, secs in timings.items():
        print(f"  {name:<20} {secs:8.3f}")
    analysis = sum(
        v for k, v in timings.items() if k not in ("embed", "add_many", "update_cluster_id")
    )
    print(f"  {'clustering + agent':<20} {analysis:8.3f}")
    print(f"  {'all but embedding':<20} {sum(timings.values()) - timings['embed']:8.3f}")


if __name__ == "__main__":
    main()
