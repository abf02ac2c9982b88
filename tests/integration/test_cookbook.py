"""Cookbook 2, steps 2-6 and the auto-tag variation, pasted as a user would, on bundled data.

Only the data source (the bundled proteins instead of the Hugging Face download), the
embedder (the shipped offline k-mer embedder instead of `fake_embed`, whose `hash()` is
salted per process) and the `connect(...)` line differ from the cookbook.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import eigenlake
from eigenlake import schema as s
from eigenlake.embed import embed_protein, load_proteins
from tests_paths import REPO_ROOT

DIM = 320


@pytest.fixture(scope="module")
def cookbook(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    ds = [
        {
            "accession": r["accession"],
            "organism": r["organism"] or "Unknown",
            "protein_family": r["family"] or "Unknown",
            "sequence": r["sequence"],
        }
        for r in load_proteins(REPO_ROOT / "data" / "proteins.tsv.gz")[:8_000]
    ]
    embed = embed_protein
    path: Path = tmp_path_factory.mktemp("cookbook")
    out: dict[str, Any] = {}

    # Step 2 — Define the schema
    schema, index_options = (
        s.SchemaBuilder(additional_properties=False)
        .add("accession", s.string(required=True, filterable=True))
        .add("organism", s.string(filterable=True))
        .add("protein_family", s.string(filterable=True))  # known labels for validation
        .add("sequence", s.string(filterable=False))
        .add("length", s.integer(filterable=True))
        .build()
    )

    # Step 3 — Ingest records
    with eigenlake.connect(path=str(path)) as client:
        idx = client.indexes.create_or_get(
            namespace="cookbook-02",
            index="protein-clustering",
            dimensions=DIM,
            schema=schema,
            index_options=index_options,
        )

        payload = [
            {
                "properties": {
                    "accession": r["accession"],
                    "organism": r.get("organism", "Unknown"),
                    "protein_family": r.get("protein_family", "Unknown"),
                    "sequence": r["sequence"],
                    "length": len(r["sequence"]),
                },
                "vector": embed(r["sequence"]),
            }
            for r in ds
        ]

        result = idx.records.add_many(payload, on_error="continue")
        print(f"inserted {len(result)} of {len(payload)} sequences")
        out["result"] = result

        # Step 4 — DBSCAN for discovery
        clusters = idx.search.cluster(
            filter={"length": {"$gte": 100}},
            limit=10_000,
            algorithm="dbscan",
            dbscan_min_samples=5,
            distance_metric="cosine",
            representatives_per_cluster=3,
        )

        for i, c in enumerate(clusters["clusters"], start=1):
            print(f"cluster {i}: {c['count']} sequences")
            for rep in c["representatives"]:
                fam = rep["metadata"].get("protein_family", "Unknown")
                print(f"  - {rep['metadata']['accession']} ({fam})")
        print(f"noise: {clusters.get('noise_count', 0)} sequences")
        out["clusters"] = clusters

        # Step 5 — k-means for fixed routing
        kmeans_clusters = idx.search.cluster(
            filter={"length": {"$gte": 100}},
            limit=10_000,
            algorithm="kmeans",
            auto_tune=True,
            min_clusters=8,
            max_clusters=15,
            distance_metric="cosine",
            representatives_per_cluster=3,
        )

        print(f"selected k={kmeans_clusters['parameters']['num_clusters']}")
        for c in kmeans_clusters["clusters"]:
            print(f"  cluster {c['cluster_id']}: {c['count']} sequences")
        out["kmeans"] = kmeans_clusters

        # Step 6 — Multi-scale clustering
        # Coarse pass: broad families
        coarse = idx.search.cluster(
            filter={"length": {"$gte": 100}},
            limit=10_000,
            algorithm="dbscan",
            dbscan_min_samples=20,
            distance_metric="cosine",
        )

        # Fine pass: subfamilies inside the largest coarse cluster
        largest = max(coarse["clusters"], key=lambda c: c["count"])
        member_ids = [r["uuid"] for r in largest.get("members", [])]

        fine = idx.search.cluster(
            filter={"organism": {"$eq": "Homo sapiens"}},
            limit=5_000,
            algorithm="kmeans",
            auto_tune=True,
            min_clusters=3,
            max_clusters=8,
        )
        print(f"fine subclusters: {len(fine['clusters'])}")
        out.update(coarse=coarse, member_ids=member_ids, fine=fine)

        # Agent path
        agent_result = idx.agent.query(
            "Cluster proteins by structural family",
            mode="cluster",
            algorithm="dbscan",
            dbscan_min_samples=5,
        )
        print(agent_result["action"])  # "cluster"
        print(agent_result["filter"])  # inferred filter
        for c in agent_result["clusters"]:
            print(f"  {c['count']} sequences: {c['summary']}")
        out["agent"] = agent_result

        # Variations — Auto-tag unlabeled records
        for c in clusters["clusters"]:
            for member in c.get("members", []):
                idx.records.update(member["uuid"], properties={"cluster_id": c["cluster_id"]})

        # What the test reads back after the user's code.
        out["schema"] = idx.settings.schema()
        out["tagged"] = {
            c["cluster_id"]: idx.records.list(filter={"cluster_id": c["cluster_id"]}, limit=10_000)
            for c in clusters["clusters"]
        }
        some = clusters["clusters"][-1]["members"][0]["uuid"]
        out["some_record"] = (some, clusters["clusters"][-1]["cluster_id"], idx.records.get(some))
    return out


def test_ingest(cookbook: dict[str, Any]) -> None:
    assert len(cookbook["result"]) == 8_000 and cookbook["result"].number_errors == 0


def test_dbscan_shape(cookbook: dict[str, Any]) -> None:
    res = cookbook["clusters"]
    assert res["clusters"] and isinstance(res["noise_count"], int)
    n = sum(c["count"] for c in res["clusters"]) + res["noise_count"]
    assert n == sum(
        1
        for p in load_proteins(REPO_ROOT / "data" / "proteins.tsv.gz")[:8_000]
        if p["length"] >= 100
    )
    for c in res["clusters"]:
        assert {"cluster_id", "count", "representatives", "members"} <= c.keys()
        assert len(c["members"]) == c["count"] and 1 <= len(c["representatives"]) <= 3
        for rep in c["representatives"]:
            assert rep["metadata"]["length"] >= 100 and "accession" in rep["metadata"]
            assert rep["distance"] >= 0
    assert res["parameters"]["dbscan_eps"] > 0


def test_kmeans_auto_tune_shape(cookbook: dict[str, Any]) -> None:
    res = cookbook["kmeans"]
    k = res["parameters"]["num_clusters"]
    assert 8 <= k <= 15 and len(res["clusters"]) == k and res["noise_count"] == 0
    assert [x["num_clusters"] for x in res["parameters"]["scores"]] == list(range(8, 16))


def test_multiscale_shape(cookbook: dict[str, Any]) -> None:
    assert len(cookbook["member_ids"]) == max(c["count"] for c in cookbook["coarse"]["clusters"])
    # No "Homo sapiens" in a venom data set: the fine pass has no rows, and says so.
    assert cookbook["fine"]["clusters"] == [] and cookbook["fine"]["parameters"]["num_records"] == 0


def test_agent_shape(cookbook: dict[str, Any]) -> None:
    res = cookbook["agent"]
    assert res["action"] == "cluster" and res["filter"] == {}
    assert res["clusters"] and all(
        isinstance(c["summary"], str) and c["count"] > 0 for c in res["clusters"]
    )


def test_update_wrote_cluster_id(cookbook: dict[str, Any]) -> None:
    assert cookbook["schema"]["properties"]["cluster_id"]["type"] == "integer"
    for c in cookbook["clusters"]["clusters"]:
        page = cookbook["tagged"][c["cluster_id"]]
        assert sorted(o["uuid"] for o in page["objects"]) == sorted(m["uuid"] for m in c["members"])
    uuid, cid, record = cookbook["some_record"]
    assert record["metadata"]["cluster_id"] == cid


def test_dbscan_auto_eps_finds_the_families(cookbook: dict[str, Any]) -> None:
    # Step 4 runs without dbscan_eps: the automatic eps must split the proteins into many
    # clusters that agree with the (unseen) family labels, not merge them into a few.
    res = cookbook["clusters"]
    family = {
        p["accession"]: p["family"]
        for p in load_proteins(REPO_ROOT / "data" / "proteins.tsv.gz")[:8_000]
    }
    assert len(res["clusters"]) >= 20
    majority = total = 0
    for c in res["clusters"]:
        fams = [family[r["metadata"]["accession"]] for r in c["representatives"]]
        fams = [f for f in fams if f]
        if fams:
            majority += max(fams.count(f) for f in set(fams))
            total += len(fams)
    assert total > 0 and majority / total >= 0.9
