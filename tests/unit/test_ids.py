"""Bulk-generated ids are canonical, random version-4 uuids."""

import uuid

from eigenlake.ids import new_ids


def test_new_ids_are_canonical_v4_uuids() -> None:
    ids = new_ids(5000)
    assert len(ids) == len(set(ids)) == 5000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text  # lower-case hex, dashes where uuid puts them
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert new_ids(0) == [] and len(new_ids(1)) == 1
