"""Outliers, topics and agent requests over the bundled proteins, embedded.

`python examples/proteins_outliers_topics_agent.py` (a fresh store under out/ each run).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import eigenlake
from eigenlake import schema as s
from eigenlake.embed import ProteinEmbedder, load_proteins

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    db = REPO / "out" / "proteins-extra-db"
    shutil.rmtree(db, ignore_errors=True)
    rows = load_proteins(REPO / "data" / "proteins.tsv.gz")
    embed = ProteinEmbedder()
    schema, options = (
        s.SchemaBuilder(additional_properties=False)
        .add("accession", s.string(required=True))
        .add("organism", s.string())
        .add("protein_family", s.string())
        .add("phylum", s.string())
        .add("sequence", s.string(filterable=False))
        .add("length", s.integer())
        .build()
    )
    with eigenlake.connect(path=str(db)) as client:
        idx = client.indexes.create_or_get(
            namespace="examples",
            index="proteins",
            dimensions=320,
            schema=schema,
            index_options=options,
        )
        idx.records.add_many(
            {
                "properties": {
                    "accession": r["accession"],
                    "organism": r["organism"] or "Unknown",
                    "protein_family": r["family"] or "Unknown",
                    "phylum": r["phylum"] or "Unknown",
                    "sequence": r["sequence"],
                    "length": r["length"],
                },
                "vector": embed(r["sequence"]),
            }
            for r in rows
        )

        out = idx.search.outliers(filter={"phylum": "Mollusca"}, limit=5_000, n_neighbors=20)
        print(f"LOF over Mollusca: {out['outlier_count']} outliers; top 5:")
        for o in out["outliers"][:5]:
            m = o["metadata"]
            print(
                f"  {m['accession']} LOF {o['score']:.2f} {m['protein_family']} ({m['length']} aa)"
            )

        topics = idx.search.topics(text_fields=["protein_family"], limit=10_000, num_topics=10)
        print("\ntopics (num_topics=10) over protein_family:")
        for t in topics["topics"]:
            print(f"  {t['topic_id']}: {t['count']:5d}  {t['summary']}")

        for q in (
            "show proteins from Conus geographus longer than 80 residues",
            "group the Chordata proteins between 100 and 200 residues",
            "anything unusual among the Cnidaria toxins?",
            "what is the weather like",
        ):
            res = idx.agent.query(q, num_clusters=4)
            print(f"\n{q!r} -> {res['action']} {res['filter']}\n  {res['explanation']}")
            if res["action"] == "cluster":
                print("  clusters:", [(c["count"], c["summary"]) for c in res["clusters"]])
            elif res["action"] == "filter":
                print(
                    f"  {res['count']} records, e.g. {[o['metadata']['accession'] for o in res['objects'][:5]]}"
                )
            elif res["action"] == "outliers":
                print(f"  {res['outlier_count']} outliers of {res['count']}")


if __name__ == "__main__":
    main()
