"""Asset keys, as-built links and their two hard parts: links that arrive before their lots, and cycles.

A key names an asset by catenaXId or ``<organization uuid>/<kind>/<local id>`` (``<kind>/<local id>`` for the
record's own organization). A link whose end is known is stored with that asset's canonical key (its catenaXId
when it has one) and id; an unknown end keeps the key as given and a NULL id until the asset arrives
(:meth:`LinkWriter.resolve_arrivals`, one SELECT per side on the partial indexes of unresolved keys).

A link is refused when it would close a cycle: from the new links' children the query walks down the
bill of materials (parent → child, on ``ix_asset_links_parent_id_child_id``) looking for the new link's parent.
Downward, because an upstream bill of materials is small (a few components per tier) while the forward
set of a component lot is huge. The refused row is named with the cycle's path.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, bindparam, delete, exists, or_, select, text
from sqlalchemy.orm import Session

from hub.genealogy import bulk
from hub.models import Asset, AssetLink
from hub.models.base import utcnow

if TYPE_CHECKING:
    from hub.genealogy.importer import Importer
    from protocol.models.genealogy import LinkRecord

KINDS = ("batch", "serial")
_LINKS: Table = AssetLink.__table__  # type: ignore[assignment]
_ASSETS: Table = Asset.__table__  # type: ignore[assignment]


def aware(value: datetime | None) -> datetime | None:
    """Catena-X dates often carry no zone: they are read as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# A new link parent > child can close a cycle only if its parent is some link's child and its child some link's
# parent: the anchor keeps only those, so a bottom-up import (components before assemblies) walks almost nothing.
_CYCLE_QUERY = """
    WITH RECURSIVE down(link_id, node) AS (
        SELECT l.id, l.child_id FROM {source}
        WHERE {ids} EXISTS (SELECT 1 FROM asset_links a WHERE a.child_id = l.parent_id)
          AND EXISTS (SELECT 1 FROM asset_links b WHERE b.parent_id = l.child_id)
        UNION
        SELECT d.link_id, x.child_id FROM down d JOIN asset_links x ON x.parent_id = d.node
        WHERE x.child_id IS NOT NULL
    )
    SELECT DISTINCT d.link_id FROM down d JOIN asset_links l ON l.id = d.link_id WHERE d.node = l.parent_id
"""
# A join with the unnested array, not "= ANY(array)", which a sequential scan would test element by element.
_CYCLES_POSTGRESQL = text(
    _CYCLE_QUERY.format(
        source="unnest(CAST(:ids AS BIGINT[])) AS n(id) JOIN asset_links l ON l.id = n.id", ids=""
    )
)
_CYCLES = text(_CYCLE_QUERY.format(source="asset_links l", ids="l.id IN :ids AND")).bindparams(
    bindparam("ids", expanding=True)
)


@dataclass(frozen=True)
class AssetRef:
    """A known asset."""

    id: uuid.UUID
    organization_id: uuid.UUID
    kind: str
    local_id: str
    catenax_id: str | None

    @property
    def natural(self) -> str:
        return f"{self.organization_id}/{self.kind}/{self.local_id}"

    @property
    def key(self) -> str:
        """The key links store for this asset."""
        return self.catenax_id or self.natural


@dataclass(frozen=True)
class Unresolved:
    """Why a key names no asset (yet)."""

    reason: str


@dataclass(frozen=True)
class ParsedKey:
    catenax_id: str | None
    organization_id: uuid.UUID | None
    kind: str | None
    local_id: str | None

    @property
    def text(self) -> str:
        return self.catenax_id or f"{self.organization_id}/{self.kind}/{self.local_id}"


@lru_cache(maxsize=65_536)
def parse_key(key: str, own: uuid.UUID) -> ParsedKey | Unresolved:
    parts = key.split("/")
    if len(parts) == 1:
        return ParsedKey(key, None, None, None)
    if len(parts) == 2:
        parts = [str(own), *parts]
    if len(parts) != 3 or parts[1] not in KINDS or not parts[2]:
        return Unresolved(
            "not an asset key: a catenaXId, <organization>/<batch|serial>/<id> or <batch|serial>/<id>"
        )
    try:
        organization_id = uuid.UUID(parts[0])
    except ValueError:
        return Unresolved("not an asset key: the organization must be a UUID")
    return ParsedKey(None, organization_id, parts[1], parts[2])


def _ref(row: Any) -> AssetRef:
    return AssetRef(row.id, row.organization_id, row.kind, row.local_id, row.catenax_id)


def lookup(
    session: Session, keys: Iterable[tuple[str, uuid.UUID]]
) -> dict[tuple[str, uuid.UUID], AssetRef | Unresolved]:
    """Resolve (key, organization of the record) pairs in two queries; unknown ones say so."""
    parsed: dict[tuple[str, uuid.UUID], ParsedKey | Unresolved] = {
        (key, own): parse_key(key, own) for key, own in keys
    }
    catenax = {p.catenax_id for p in parsed.values() if isinstance(p, ParsedKey) and p.catenax_id}
    natural = {
        (p.organization_id, p.kind, p.local_id)
        for p in parsed.values()
        if isinstance(p, ParsedKey) and p.catenax_id is None
    }
    by_catenax: dict[str, AssetRef] = {}
    by_natural: dict[tuple[Any, ...], AssetRef] = {}
    rest = ("id", "organization_id", "kind", "local_id")
    for row in bulk.select_by_keys(session, _ASSETS, ("catenax_id",), [(c,) for c in catenax], rest):
        by_catenax[row[0]] = AssetRef(row[1], row[2], row[3], row[4], row[0])
    key = ("organization_id", "kind", "local_id")
    for row in bulk.select_by_keys(session, _ASSETS, key, list(natural), ("id", "catenax_id")):
        by_natural[(row[0], row[1], row[2])] = AssetRef(row[3], row[0], row[1], row[2], row[4])
    answer: dict[tuple[str, uuid.UUID], AssetRef | Unresolved] = {}
    for pair, p in parsed.items():
        if isinstance(p, Unresolved):
            answer[pair] = p
            continue
        found = (
            by_catenax.get(p.catenax_id)
            if p.catenax_id
            else by_natural.get((p.organization_id, p.kind, p.local_id))
        )
        answer[pair] = found if found is not None else Unresolved("unknown lot")
    return answer


class LinkWriter:
    """Writes link batches for an :class:`Importer` and resolves the links waiting for arriving assets."""

    def __init__(self, importer: Importer) -> None:
        self.importer = importer
        self.session = importer.session
        self.pending: bool | None = None  # are there links with a missing end? (asked once, then tracked)

    def write(self, rows: list[tuple[int, LinkRecord]]) -> None:
        imp = self.importer
        pairs: list[tuple[str, Any]] = [(r.parent, r.organization_id) for _l, r in rows]
        refs = lookup(self.session, pairs + [(r.child, r.organization_id) for _l, r in rows])
        values: list[tuple[int, dict[str, Any]]] = []
        lines: dict[tuple[str, str], int] = {}
        by_key: dict[tuple[str, str], dict[str, Any]] = {}
        for line, r in rows:
            own: uuid.UUID = r.organization_id  # type: ignore[assignment]
            ends: dict[str, tuple[str, uuid.UUID | None]] = {}
            for field, key in (("parent", r.parent), ("child", r.child)):
                parsed = parse_key(key, own)
                if isinstance(parsed, Unresolved):
                    imp.reject(line, "link", field, parsed.reason)
                    break
                ref = refs[(key, own)]
                if isinstance(ref, AssetRef):
                    owner: uuid.UUID | None = ref.organization_id
                    ends[field] = (ref.key, ref.id)
                else:
                    owner = parsed.organization_id
                    ends[field] = (parsed.text, None)
                if field == "parent" and owner is not None and owner != own:
                    imp.reject(
                        line,
                        "link",
                        "parent",
                        "not your asset: a link is asserted by the parent's maker",
                    )
                    break
            else:
                (parent_key, parent_id), (child_key, child_id) = (
                    ends["parent"],
                    ends["child"],
                )
                if parent_key == child_key:
                    imp.reject(line, "link", "child", f"cycle: {parent_key} > {parent_key}")
                    continue
                lines[(parent_key, child_key)] = line
                by_key[(parent_key, child_key)] = {
                    "parent_key": parent_key,
                    "child_key": child_key,
                    "parent_id": parent_id,
                    "child_id": child_id,
                    "quantity": r.quantity,
                    "unit": r.unit,
                    "organization_id": own,
                    "created_on": aware(r.created_on) or utcnow(),
                }
                values.append((line, by_key[(parent_key, child_key)]))
        if any(v["parent_id"] is None or v["child_id"] is None for _l, v in values):
            self.pending = True
        ids, written = imp.upsert(
            AssetLink,
            "link",
            values,
            key=("parent_key", "child_key"),
            compare=("parent_id", "child_id", "quantity", "unit"),
            new_ids=False,
        )
        complete = {
            ids[k]: lines[k]
            for k in written
            if k in ids and by_key[k]["parent_id"] is not None and by_key[k]["child_id"] is not None
        }
        for _link_id, (line, reason) in self.refuse_cycles(complete):
            imp.count("link", accepted=-1)
            imp.reject(line, "link", "child", reason)

    def refuse_cycles(self, candidates: dict[int, int]) -> list[tuple[int, tuple[int, str]]]:
        """Delete the candidate links (id → line) that close a cycle, the latest line first, and say why."""
        refused: list[tuple[int, tuple[int, str]]] = []
        remaining = dict(candidates)
        while remaining:
            query = _CYCLES_POSTGRESQL if self.session.get_bind().dialect.name == "postgresql" else _CYCLES
            cyclic = set(self.session.scalars(query, {"ids": list(remaining)}))
            if not cyclic:
                break
            worst = max(cyclic, key=lambda i: (remaining[i], i))
            reason = "cycle: " + " > ".join(self.cycle_path(worst))
            self.session.execute(delete(AssetLink).where(AssetLink.id == worst))
            refused.append((worst, (remaining.pop(worst), reason)))
            remaining = {i: remaining[i] for i in cyclic if i in remaining}
        return refused

    def cycle_path(self, link_id: int) -> list[str]:
        """The keys along the cycle the link closes: parent > child > … > parent."""
        link: Any = self.session.execute(
            select(AssetLink.parent_id, AssetLink.child_id).where(AssetLink.id == link_id)
        ).one()
        parent_id: uuid.UUID = link.parent_id
        child_id: uuid.UUID = link.child_id
        previous: dict[uuid.UUID, uuid.UUID | None] = {child_id: None}
        frontier = [child_id]
        while frontier and parent_id not in previous:
            step = self.session.execute(
                select(AssetLink.parent_id, AssetLink.child_id).where(
                    AssetLink.parent_id.in_(frontier), AssetLink.child_id.is_not(None)
                )
            )
            frontier = []
            for above, below in step.all():
                if below is None:
                    continue
                if below not in previous:
                    previous[below] = above
                    frontier.append(below)
        chain = [parent_id]
        node = parent_id
        while node != child_id and node in previous:
            node = previous[node]  # type: ignore[assignment]
            chain.append(node)
        chain.reverse()
        names = {
            row.id: _ref(row).key
            for row in self.session.execute(
                select(
                    Asset.id,
                    Asset.organization_id,
                    Asset.kind,
                    Asset.local_id,
                    Asset.catenax_id,
                ).where(Asset.id.in_(chain))
            )
        }
        return [names.get(parent_id, str(parent_id))] + [names.get(n, str(n)) for n in chain]

    def resolve_arrivals(self, arrived: list[tuple[int, AssetRef]], record_type: str) -> None:
        """Fill in the ids of links that were waiting for these assets; refuse those that now close a cycle."""
        if self.pending is None:
            waiting = exists().where(or_(AssetLink.child_id.is_(None), AssetLink.parent_id.is_(None)))
            self.pending = bool(self.session.scalar(select(waiting)))
        if not self.pending:
            return
        by_key: dict[str, tuple[int, AssetRef]] = {}
        for line, ref in arrived:
            by_key[ref.natural] = (line, ref)
            if ref.catenax_id:
                by_key[ref.catenax_id] = (line, ref)
        keys = list(by_key)
        resolved: dict[int, int] = {}
        wanted = [(k,) for k in keys]
        child_rows = bulk.select_by_keys(
            self.session, _LINKS, ("child_key",), wanted, ("id",), where="t.child_id IS NULL"
        )
        bulk.update_by_id(self.session, _LINKS, "child_id", [(i, by_key[k][1].id) for k, i in child_rows])
        resolved.update({i: by_key[k][0] for k, i in child_rows})
        parent_rows = bulk.select_by_keys(
            self.session,
            _LINKS,
            ("parent_key",),
            wanted,
            ("id", "organization_id"),
            where="t.parent_id IS NULL",
        )
        own = [(i, k) for k, i, org in parent_rows if by_key[k][1].organization_id == org]
        bulk.update_by_id(self.session, _LINKS, "parent_id", [(i, by_key[k][1].id) for i, k in own])
        resolved.update({i: by_key[k][0] for i, k in own})
        if not resolved:
            return
        self.importer.report.links_resolved += len(resolved)
        complete = dict(
            self.session.execute(
                select(AssetLink.id, AssetLink.id).where(
                    AssetLink.id.in_(list(resolved)),
                    AssetLink.parent_id.is_not(None),
                    AssetLink.child_id.is_not(None),
                )
            ).all()
        )
        for _link_id, (line, reason) in self.refuse_cycles({i: resolved[i] for i in complete}):
            self.importer.report.links_resolved -= 1
            self.importer.reject(
                line,
                record_type,
                "link",
                f"a waiting link would close a {reason}; removed",
            )
