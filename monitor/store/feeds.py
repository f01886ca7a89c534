"""The store's feeds: adding, listing, pausing, claiming due feeds (leases between replicas)
and writing polls' results.  Feeds leave as FeedRow, never as ORM objects."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from monitor.feedurl import feed_url
from monitor.store import db
from monitor.store.base import StoreBase
from monitor.store.models import Feed
from monitor.store.rows import FeedRow

_FEED_FIELDS = tuple(f.name for f in fields(FeedRow))


def feed_row(feed: Feed) -> FeedRow:
    """The row of a loaded feed (at the boundary: no ORM object goes further)."""
    return FeedRow(**{name: getattr(feed, name) for name in _FEED_FIELDS})


class FeedsMixin(StoreBase):
    def add_feed(self, url: str, now: datetime, *, origin: str = "cli",
                 kind: str | None = None, **fields: Any) -> tuple[FeedRow, bool]:
        """The feed with this URL (normalised: feedurl.feed_url), added if new (True) or
        updated with ``fields``.  A removed feed added again is polled again, on behalf of
        ``origin``; a paused one stays paused.  The config claims the feeds it lists.
        ``kind``: its source (monitor.sources; None: "rss" for a new feed, else kept)."""
        url = feed_url(url)
        fields["kind"] = kind
        with self.session() as s:
            feed = s.scalar(select(Feed).where(Feed.url == url))
            if feed is not None:
                for key, value in fields.items():
                    if value is not None:
                        setattr(feed, key, value)
                if feed.polling == "removed":
                    feed.polling, feed.origin, feed.next_poll = "on", origin, now
                elif origin == "config":
                    feed.origin = origin
                s.flush()
                return feed_row(feed), False
            feed = Feed(url=url, created=now, next_poll=now, state="active", error_count=0,
                        origin=origin, polling="on",
                        **{k: v for k, v in fields.items() if v is not None})
            s.add(feed)
            s.flush()
            return feed_row(feed), True

    def feeds(self) -> list[FeedRow]:
        """Every feed, removed ones too, by id."""
        with self.session() as s:
            return [feed_row(f) for f in s.scalars(select(Feed).order_by(Feed.id))]

    def feed(self, ref: str) -> FeedRow | None:
        """A feed by id or URL (any spelling of it)."""
        with self.session() as s:
            if ref.strip().isdigit():
                number = int(ref)
                found = s.get(Feed, number) if number < 2**31 else None
            else:
                try:
                    url = feed_url(ref)
                except ValueError:
                    return None
                found = s.scalar(select(Feed).where(Feed.url == url))
            return None if found is None else feed_row(found)

    def set_polling(self, feed_id: int, polling: str, now: datetime) -> None:
        """Pause, resume or remove a feed ("paused", "on", "removed").  Resuming polls it
        at once, and a feed disabled by its server (410) is given another chance."""
        values: dict[str, Any] = {"polling": polling}
        if polling == "on":
            values.update(next_poll=now)
            with self.engine.begin() as c:
                c.execute(update(Feed).where(Feed.id == feed_id, Feed.state == "disabled")
                          .values(state="active", error_count=0))
        with self.engine.begin() as c:
            c.execute(update(Feed).where(Feed.id == feed_id).values(values))

    def remove_unlisted(self, urls: Iterable[str]) -> list[FeedRow]:
        """Remove the feeds the config added and no longer lists (their rows, articles and
        hits stay); the ones removed."""
        listed = {feed_url(u) for u in urls}
        with self.session() as s:
            gone = [f for f in s.scalars(select(Feed).where(
                Feed.origin == "config", Feed.polling != "removed").order_by(Feed.id))
                if f.url not in listed]
            for feed in gone:
                feed.polling = "removed"
            s.flush()
            return [feed_row(f) for f in gone]

    def due_feeds(self, now: datetime) -> list[FeedRow]:
        with self.session() as s:
            return [feed_row(f) for f in s.scalars(
                select(Feed).where(Feed.state != "disabled", Feed.polling == "on",
                                   (Feed.next_poll.is_(None)) | (Feed.next_poll <= now))
                .order_by(Feed.next_poll, Feed.id))]

    def claim_feeds(self, now: datetime, owner: str, lease: timedelta, limit: int,
                    due_by: datetime | None = None) -> list[FeedRow]:
        """Due feeds no other replica holds, leased to ``owner`` until now + lease (the
        poll's state update releases them).  On PostgreSQL the due rows are locked with
        FOR UPDATE SKIP LOCKED, so replicas claiming at once get different feeds; SQLite
        serialises the statement.  A feed ``owner`` itself still holds is left from a cycle
        that failed (the database went away): one owner polls one cycle at a time, so it is
        claimed again at once instead of at the lease's end.  ``due_by``: only feeds due by
        then (a pass over what was due when it began, so that it ends under load)."""
        due_by = due_by or now
        due = (select(Feed.id).where(
            Feed.state != "disabled", Feed.polling == "on",
            or_(Feed.next_poll.is_(None), Feed.next_poll <= due_by),
            or_(Feed.lease_until.is_(None), Feed.lease_until <= now, Feed.lease_owner == owner))
            .order_by(Feed.next_poll, Feed.id).limit(limit))
        if self.engine.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        claim = (update(Feed).where(Feed.id.in_(due.scalar_subquery()))
                 .values(lease_owner=owner, lease_until=now + lease).returning(Feed))
        with self.session() as s:
            feeds = [feed_row(f) for f in s.scalars(
                claim, execution_options={"synchronize_session": False})]
        return sorted(feeds, key=lambda f: (f.next_poll or now, f.id))

    def lease_owners(self, now: datetime) -> list[str]:
        with self.engine.connect() as c:
            return list(c.scalars(select(Feed.lease_owner).distinct().where(
                Feed.lease_owner.is_not(None), Feed.lease_until > now)))

    def release_leases(self, owners: Sequence[str]) -> int:
        """Give back the feeds these (dead) replicas held."""
        if not owners:
            return 0
        with self.engine.begin() as c:
            result = c.execute(update(Feed).where(Feed.lease_owner.in_(list(owners)))
                               .values(lease_owner=None, lease_until=None))
            return int(result.rowcount or 0)

    def update_feed(self, feed_id: int, **fields: Any) -> None:
        self.update_feeds([(feed_id, fields)])

    def update_feeds(self, updates: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Several feeds' new state in one transaction (a poll writes them in batches)."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        with self.engine.begin() as c:
            for feed_id, fields in updates:
                if "url" in fields:
                    fields = {**fields, "url": feed_url(fields["url"])}
                if "url" in fields and c.scalar(select(Feed.id).where(
                        Feed.url == fields["url"], Feed.id != feed_id)) is not None:
                    # a permanent redirect to a URL another feed already has: keep ours
                    fields = {k: v for k, v in fields.items() if k != "url"}
                if not fields:
                    continue
                params = {f"p_{k}": v for k, v in fields.items()}
                groups.setdefault(tuple(sorted(fields)), []).append({"p_id": feed_id, **params})
            for keys, rows in groups.items():
                c.execute(db.update_feed(keys), rows)
