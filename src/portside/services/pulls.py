"""Pull statistics, recorded without slowing pulls.

A manifest GET only notes, in memory, which manifest was pulled, through which tag and in which
repository; a background task writes them every few seconds in a few batched UPDATEs:
the artifact's and the tag's pull time, and the repository's pull count (Harbor counts every
manifest GET). A crash loses at most one interval of statistics, never data.
"""

from __future__ import annotations

from collections import Counter

from portside.store import manifests as manifest_store
from portside.store.database import Database


class PullRecorder:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._manifests: set[int] = set()
        self._tags: set[tuple[int, str]] = set()
        self._repositories: Counter[int] = Counter()

    def record(self, manifest_id: int, repository_id: int, tag: str | None = None) -> None:
        """Note one pull of the manifest, by `tag` when it was pulled by tag (no I/O)."""
        self._manifests.add(manifest_id)
        self._repositories[repository_id] += 1
        if tag is not None:
            self._tags.add((repository_id, tag))

    async def flush(self) -> int:
        """Write what was noted since the last flush; returns how many manifests were updated."""
        if not self._manifests:
            return 0
        manifests, tags, counts = sorted(self._manifests), sorted(self._tags), self._repositories
        self._manifests, self._tags, self._repositories = set(), set(), Counter()
        async with self._db.write() as conn:
            await manifest_store.touch_pulled(conn, manifests)
            await manifest_store.touch_tags_pulled(conn, tags)
            await manifest_store.add_pull_counts(conn, dict(counts))
        return len(manifests)
