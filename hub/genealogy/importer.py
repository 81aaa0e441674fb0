"""The streaming genealogy importer: validated records in, batched idempotent upserts out, a report at the end.

Records are buffered per type and written every ``batch_rows`` rows, in dependency order (organizations, part
types, plants, lots, serial parts, links, shipments, inventory), so a shipment may follow its lot anywhere in the
same batch; across batches the file order counts, except for links, which wait for their lots. Each table's batch
is one SELECT of the natural keys already present (to tell inserted, updated and unchanged apart) and one
multi-row ``INSERT … ON CONFLICT DO UPDATE`` of what is new or changed, so a re-import writes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Table, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hub.genealogy import bulk
from hub.genealogy.formats import Parsed, ParseError, records_from_catenax
from hub.genealogy.links import AssetRef, LinkWriter, Unresolved, aware, lookup
from hub.models import Asset, InventoryPosition, Organization, PartType, Plant, Shipment
from hub.models.base import utcnow, uuid7
from protocol.models import genealogy as wire

BATCH_ROWS = 10_000
MAX_LISTED_REJECTIONS = 1000
ANALYZE_FROM = 20_000
_RECORD = TypeAdapter(wire.ImportRecord)
_ASSETS: Table = Asset.__table__  # type: ignore[assignment]
_CATENAX_TYPES = {"catenax_batch": "batch", "catenax_serial_part": "serial_part", "catenax_child": "link"}
_ORDER = (
    "organization",
    "part_type",
    "plant",
    "batch",
    "serial_part",
    "link",
    "shipment",
    "inventory",
)


class Importer:
    """Feed it parsed rows, then :meth:`finish`. ``organization_id`` is the caller's organization; ``None`` is the
    operator's import, where every record names its organization (and ``organization`` records are honoured)."""

    def __init__(
        self,
        session: Session,
        *,
        organization_id: uuid.UUID | None,
        format: Literal["ndjson", "csv", "catenax"],
        batch_rows: int = BATCH_ROWS,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.session = session
        self.org = organization_id
        self.batch_rows = batch_rows
        self.progress = progress
        self.dialect = session.get_bind().dialect.name
        if self.dialect == "postgresql":
            # The batch statements are estimated costly enough for JIT compilation, which then takes longer
            # (~0.7 s a statement) than running them; off for the rest of this transaction.
            session.execute(text("SET LOCAL jit = off"))
        self.report = wire.ImportReport(format=format)
        self.buffers: dict[str, list[tuple[int, Any]]] = {t: [] for t in _ORDER}
        self.buffered = 0
        self.rows = 0
        self.links = LinkWriter(self)
        self.touched: set[uuid.UUID] = set()
        self.analyzed_at = 0
        self.started = utcnow()

    # --- counting ----------------------------------------------------------------------------------------------

    def _counts(self, record_type: str) -> wire.TypeCounts:
        counts = self.report.by_type.get(record_type)
        if counts is None:
            counts = self.report.by_type[record_type] = wire.TypeCounts()
        return counts

    def count(
        self,
        record_type: str,
        *,
        accepted: int = 0,
        updated: int = 0,
        unchanged: int = 0,
    ) -> None:
        counts = self._counts(record_type)
        counts.accepted += accepted
        counts.updated += updated
        counts.unchanged += unchanged
        self.report.accepted += accepted
        self.report.updated += updated
        self.report.unchanged += unchanged

    def reject(self, line: int, record_type: str | None, field: str | None, reason: str) -> None:
        self.report.rejected += 1
        if record_type is not None:
            self._counts(record_type).rejected += 1
        if len(self.report.rejections) < MAX_LISTED_REJECTIONS:
            self.report.rejections.append(
                wire.RejectedRow(
                    line=max(line, 1), type=record_type, field=_shown(field), reason=_shown(reason)
                )
            )

    # --- intake ------------------------------------------------------------------------------------------------

    def feed(self, rows: Iterable[Parsed]) -> None:
        for line, raw in rows:
            self.rows += 1  # a plain int: the report validates every assignment
            if isinstance(raw, bytes):
                self._accept_json(line, raw)
            elif isinstance(raw, ParseError):
                self.reject(line, None, raw.field, raw.reason)
            else:
                self._accept(line, raw)
            if self.buffered >= self.batch_rows:
                self.flush()

    def _accept_json(self, line: int, raw: bytes) -> None:
        try:
            record = _RECORD.validate_json(raw)
        except ValidationError as exc:
            error = exc.errors()[0]
            if error["type"] == "json_invalid":
                self.reject(line, None, None, f"not JSON: {error['msg']}")
                return
            parsed = json.loads(raw)
            if not isinstance(parsed, dict):
                self.reject(line, None, None, "a line must be a JSON object")
                return
            self._accept(line, parsed)  # reports the error as for any other record
            return
        self._take(line, [record])

    def _accept(self, line: int, raw: dict[str, Any]) -> None:
        kind = raw.get("type")
        try:
            catenax = isinstance(kind, str) and kind in _CATENAX_TYPES
            records = records_from_catenax(raw) if catenax else [_RECORD.validate_python(raw)]
        except ValidationError as exc:
            error = exc.errors()[0]
            location = [str(p) for p in error["loc"] if p != kind]
            field = ".".join(location) or None
            # Only known types are counted: a file of made-up types must not grow the report's keys.
            known = _CATENAX_TYPES.get(kind, kind) if isinstance(kind, str) else None
            self.reject(line, known if known in _ORDER else None, field, error["msg"])
            return
        self._take(line, records)

    def _take(self, line: int, records: list[Any]) -> None:
        for record in records:
            owner = record.organization_id if not isinstance(record, wire.OrganizationRecord) else None
            if isinstance(record, wire.OrganizationRecord):
                if self.org is not None:
                    self.reject(
                        line,
                        record.type,
                        "type",
                        "organizations are registered by the operator",
                    )
                    continue
            elif self.org is not None:
                if owner is not None and owner != self.org:
                    self.reject(line, record.type, "organization_id", "not your organization")
                    continue
                # Set without re-validating the whole record (the caller's own id is valid by construction).
                record.__dict__["organization_id"] = self.org
            elif owner is None:
                self.reject(
                    line,
                    record.type,
                    "organization_id",
                    "required in an operator import",
                )
                continue
            self.buffers[record.type].append((line, record))
            self.buffered += 1

    def flush(self) -> None:
        for record_type in _ORDER:
            rows = self.buffers[record_type]
            if rows:
                self.buffers[record_type] = []
                getattr(self, f"_write_{record_type}")(rows)
        self.buffered = 0
        self._analyze_when_grown()
        if self.progress is not None:
            self.progress(self.rows)

    def _analyze_when_grown(self) -> None:
        """PostgreSQL plans the batch statements from table statistics, which know nothing of the rows this
        (uncommitted) import wrote: once it has written as many rows again as at the last look, ANALYZE the
        tables it writes (inside the transaction, ANALYZE sees them), so lookups keep using the indexes."""
        written = self.report.accepted
        if self.dialect != "postgresql" or written < max(ANALYZE_FROM, 2 * self.analyzed_at):
            return
        self.session.execute(text("ANALYZE assets, asset_links, shipments, inventory_positions"))
        self.analyzed_at = written

    def finish(self) -> wire.ImportReport:
        self.flush()
        self.report.rows = self.rows
        self.report.rejections.sort(key=lambda r: r.line)
        self.report.seconds = round((utcnow() - self.started).total_seconds(), 3)
        return self.report

    # --- the generic upsert ------------------------------------------------------------------------------------

    def upsert(
        self,
        model: type[Any],
        record_type: str,
        rows: list[tuple[int, dict[str, Any]]],
        *,
        key: Sequence[str],
        compare: Sequence[str],
        on_insert: Callable[[dict[str, Any]], None] | None = None,
        new_ids: bool = True,
    ) -> tuple[dict[tuple[Any, ...], Any], set[tuple[Any, ...]]]:
        """Insert new rows, update changed ones, count unchanged ones: the ids by natural key, and the natural
        keys written (inserted or updated). ``new_ids``: make a UUID for a new row (False: the database numbers it)."""
        table: Table = model.__table__
        latest: dict[tuple[Any, ...], tuple[int, dict[str, Any]]] = {}
        for line, values in rows:
            natural = tuple(values[k] for k in key)
            if natural in latest:
                self.count(record_type, updated=1)  # a later row of the same file replaces it
            latest[natural] = (line, values)
        if not latest:
            return {}, set()
        if self.dialect == "postgresql" and compare:
            return self._upsert_postgresql(table, record_type, latest, key, compare, on_insert, new_ids)
        existing = {
            tuple(row[: len(key)]): row[len(key) :]
            for row in bulk.select_by_keys(self.session, table, key, list(latest), ("id", *compare))
        }
        ids: dict[tuple[Any, ...], Any] = {}
        written: set[tuple[Any, ...]] = set()
        writes: list[dict[str, Any]] = []
        inserted = updated = unchanged = 0
        for natural, (_line, values) in latest.items():
            found = existing.get(natural)
            if found is None:
                if new_ids:
                    values["id"] = uuid7()
                if on_insert is not None:
                    on_insert(values)
                writes.append(values)
                written.add(natural)
                inserted += 1
                continue
            ids[natural] = found[0]
            if all(values.get(c) == found[1 + i] for i, c in enumerate(compare)):
                unchanged += 1
            else:
                if new_ids:
                    values["id"] = found[0]
                writes.append(values)
                written.add(natural)
                updated += 1
        for row in bulk.upsert_rows(
            self.session, table, writes, key=key, update=compare, returning=(*key, "id")
        ):
            ids[tuple(row[: len(key)])] = row[len(key)]
        self.count(record_type, accepted=inserted, updated=updated, unchanged=unchanged)
        return ids, written

    def _upsert_postgresql(
        self,
        table: Table,
        record_type: str,
        latest: dict[tuple[Any, ...], tuple[int, dict[str, Any]]],
        key: Sequence[str],
        compare: Sequence[str],
        on_insert: Callable[[dict[str, Any]], None] | None,
        new_ids: bool,
    ) -> tuple[dict[tuple[Any, ...], Any], set[tuple[Any, ...]]]:
        """:meth:`upsert` in one statement: unchanged rows are neither selected first nor written; the ids are
        those of the rows written. A new row's id is made here; an existing row keeps its own."""
        if new_ids:
            for _line, values in latest.values():
                values["id"] = uuid7()
        ids: dict[tuple[Any, ...], Any] = {}
        inserted = 0
        width = len(key)
        for row in bulk.upsert_changed(
            self.session,
            table,
            [values for _line, values in latest.values()],
            key=key,
            update=compare,
            returning=(*key, "id"),
        ):
            natural = tuple(row[:width])
            ids[natural] = row[width]
            if row[width + 1]:
                inserted += 1
                if on_insert is not None:
                    on_insert(latest[natural][1])
        updated = len(ids) - inserted
        self.count(record_type, accepted=inserted, updated=updated, unchanged=len(latest) - len(ids))
        return ids, set(ids)

    def insert(self, table: Table) -> Any:
        return (postgresql_insert if self.dialect == "postgresql" else sqlite_insert)(table)

    # --- per type ------------------------------------------------------------------------------------------------

    def _write_organization(self, rows: list[tuple[int, wire.OrganizationRecord]]) -> None:
        table: Table = Organization.__table__  # type: ignore[assignment]
        inserted = 0
        for _line, record in rows:
            statement = self.insert(table).values(
                id=record.id, name=record.name, kind=record.kind, created_at=utcnow()
            )
            result = self.session.execute(statement.on_conflict_do_nothing().returning(table.c.id))
            inserted += result.first() is not None
        self.count("organization", accepted=inserted, unchanged=len(rows) - inserted)

    def _write_part_type(self, rows: list[tuple[int, wire.PartTypeRecord]]) -> None:
        values = [(line, r.model_dump(exclude={"type"})) for line, r in rows if self._org_known(line, r)]
        self.upsert(
            PartType,
            "part_type",
            values,
            key=("organization_id", "manufacturer_part_id"),
            compare=("customer_part_id", "name_at_manufacturer", "name_at_customer"),
        )

    def _write_plant(self, rows: list[tuple[int, wire.PlantRecord]]) -> None:
        values = [(line, r.model_dump(exclude={"type"})) for line, r in rows if self._org_known(line, r)]
        self.upsert(Plant, "plant", values, key=("organization_id", "code"), compare=("name",))

    def _org_known(self, line: int, record: Any) -> bool:
        if self.org is not None or record.organization_id in self.touched:
            return True
        if self.session.get(Organization, record.organization_id) is None:
            self.reject(line, record.type, "organization_id", "unknown organization")
            return False
        self.touched.add(record.organization_id)
        return True

    def _part_types(self, records: list[tuple[int, Any]]) -> dict[tuple[uuid.UUID, str], uuid.UUID]:
        """The part type ids the records name; part types not yet known are created from the record."""
        wanted = {(r.organization_id, r.manufacturer_part_id): r for _l, r in records}
        table: Table = PartType.__table__  # type: ignore[assignment]
        key = ("organization_id", "manufacturer_part_id")
        found: dict[tuple[uuid.UUID, str], uuid.UUID] = {
            (row[0], row[1]): row[2]
            for row in bulk.select_by_keys(self.session, table, key, list(wanted), ("id",))
        }
        missing = [
            {
                "id": uuid7(),
                "organization_id": org,
                "manufacturer_part_id": number,
                "name_at_manufacturer": r.name_at_manufacturer or number,
                "customer_part_id": None,
                "name_at_customer": None,
            }
            for (org, number), r in wanted.items()
            if (org, number) not in found
        ]
        if missing:
            bulk.upsert_rows(self.session, table, missing, key=key, update=(), returning=("id",))
            names = [(m["organization_id"], m["manufacturer_part_id"]) for m in missing]
            for row in bulk.select_by_keys(self.session, table, key, names, ("id",)):
                found[(row[0], row[1])] = row[2]
        return found

    def _write_batch(self, rows: list[tuple[int, wire.BatchRecord]]) -> None:
        self._write_assets("batch", rows)

    def _write_serial_part(self, rows: list[tuple[int, wire.SerialPartRecord]]) -> None:
        self._write_assets("serial", rows)

    def _write_assets(self, kind: str, rows: list[tuple[int, Any]]) -> None:
        record_type = "batch" if kind == "batch" else "serial_part"
        rows = [(line, r) for line, r in rows if self._org_known(line, r)]
        if not rows:
            return
        part_types = self._part_types(rows)
        lots: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
        if kind == "serial":
            wanted = {(r.organization_id, r.batch_id) for _l, r in rows if r.batch_id}
            if wanted:
                lots = {
                    (row[0], row[2]): row[3]
                    for row in bulk.select_by_keys(
                        self.session,
                        _ASSETS,
                        ("organization_id", "kind", "local_id"),
                        [(org, "batch", local) for org, local in wanted],
                        ("id",),
                    )
                }
        owners = self._catenax_owners({r.catenax_id for _l, r in rows if r.catenax_id})
        values: list[tuple[int, dict[str, Any]]] = []
        claimed: dict[str, tuple[uuid.UUID, str]] = {}
        now = utcnow()
        for line, r in rows:
            local = r.batch_id if kind == "batch" else r.part_instance_id
            if r.catenax_id:
                holder = owners.get(r.catenax_id) or claimed.get(r.catenax_id)
                if holder is not None and holder != (
                    r.organization_id,
                    f"{kind}/{local}",
                ):
                    self.reject(line, record_type, "catenax_id", "already names another asset")
                    continue
                claimed[r.catenax_id] = (r.organization_id, f"{kind}/{local}")
            batch_asset_id = None
            if kind == "serial" and r.batch_id:
                batch_asset_id = lots.get((r.organization_id, r.batch_id))
                if batch_asset_id is None:
                    self.reject(line, record_type, "batch_id", "unknown lot")
                    continue
            values.append(
                (
                    line,
                    {
                        "organization_id": r.organization_id,
                        "kind": kind,
                        "local_id": local,
                        "catenax_id": r.catenax_id,
                        "part_type_id": part_types[(r.organization_id, r.manufacturer_part_id)],
                        "batch_asset_id": batch_asset_id,
                        "model": getattr(r, "model", None),
                        "site": r.site,
                        "production_date": aware(r.production_date),
                        "quantity": getattr(r, "quantity", None),
                        "unit": getattr(r, "unit", None),
                        "created_at": now,
                    },
                )
            )
        new: list[tuple[int, AssetRef]] = []
        lines = {(v["organization_id"], v["kind"], v["local_id"]): line for line, v in values}

        def remember(v: dict[str, Any]) -> None:
            new.append(
                (
                    lines[(v["organization_id"], v["kind"], v["local_id"])],
                    AssetRef(
                        v["id"],
                        v["organization_id"],
                        v["kind"],
                        v["local_id"],
                        v["catenax_id"],
                    ),
                )
            )

        self.upsert(
            Asset,
            record_type,
            values,
            key=("organization_id", "kind", "local_id"),
            compare=(
                "catenax_id",
                "part_type_id",
                "batch_asset_id",
                "model",
                "site",
                "production_date",
                "quantity",
                "unit",
            ),
            on_insert=remember,
        )
        if new:
            self.links.resolve_arrivals(new, record_type)

    def _catenax_owners(self, ids: set[str]) -> dict[str, tuple[uuid.UUID, str]]:
        if not ids:
            return {}
        return {
            row[0]: (row[1], f"{row[2]}/{row[3]}")
            for row in bulk.select_by_keys(
                self.session,
                _ASSETS,
                ("catenax_id",),
                [(i,) for i in ids],
                ("organization_id", "kind", "local_id"),
            )
        }

    def _write_link(self, rows: list[tuple[int, wire.LinkRecord]]) -> None:
        self.links.write(rows)

    def _write_shipment(self, rows: list[tuple[int, wire.ShipmentRecord]]) -> None:
        refs = lookup(self.session, [(r.asset, r.organization_id) for _l, r in rows])  # type: ignore[misc]
        customers = {r.customer_organization_id for _l, r in rows}
        known = set(self.session.scalars(select(Organization.id).where(Organization.id.in_(list(customers)))))
        plants = self._plants({(r.customer_organization_id, r.plant) for _l, r in rows if r.plant})
        values: list[tuple[int, dict[str, Any]]] = []
        for line, r in rows:
            ref = refs[(r.asset, r.organization_id)]  # type: ignore[index]
            if isinstance(ref, Unresolved):
                self.reject(line, "shipment", "asset", ref.reason)
                continue
            if ref.organization_id != r.organization_id:
                self.reject(
                    line,
                    "shipment",
                    "asset",
                    "not your lot: you ship only what you made",
                )
                continue
            if r.customer_organization_id not in known:
                self.reject(line, "shipment", "customer_organization_id", "unknown organization")
                continue
            plant_id = plants.get((r.customer_organization_id, r.plant)) if r.plant else None
            if r.plant and plant_id is None:
                self.reject(line, "shipment", "plant", "unknown plant of the customer")
                continue
            values.append(
                (
                    line,
                    {
                        "organization_id": r.organization_id,
                        "delivery_note": r.delivery_note,
                        "asset_id": ref.id,
                        "customer_organization_id": r.customer_organization_id,
                        "plant_id": plant_id,
                        "shipped_on": r.shipped_on,
                        "quantity": r.quantity,
                        "unit": r.unit,
                    },
                )
            )
        self.upsert(
            Shipment,
            "shipment",
            values,
            key=("organization_id", "delivery_note", "asset_id"),
            compare=(
                "customer_organization_id",
                "plant_id",
                "shipped_on",
                "quantity",
                "unit",
            ),
        )

    def _plants(self, wanted: set[tuple[uuid.UUID, str]]) -> dict[tuple[uuid.UUID, str], uuid.UUID]:
        if not wanted:
            return {}
        p: Table = Plant.__table__  # type: ignore[assignment]
        return {
            (row[0], row[1]): row[2]
            for row in bulk.select_by_keys(
                self.session, p, ("organization_id", "code"), list(wanted), ("id",)
            )
        }

    def _write_inventory(self, rows: list[tuple[int, wire.InventoryRecord]]) -> None:
        refs = lookup(self.session, [(r.asset, r.organization_id) for _l, r in rows])  # type: ignore[misc]
        plants = self._plants({(r.organization_id, r.plant) for _l, r in rows})  # type: ignore[misc]
        values: list[tuple[int, dict[str, Any]]] = []
        for line, r in rows:
            ref = refs[(r.asset, r.organization_id)]  # type: ignore[index]
            if isinstance(ref, Unresolved):
                self.reject(line, "inventory", "asset", ref.reason)
                continue
            plant_id = plants.get((r.organization_id, r.plant))  # type: ignore[arg-type]
            if plant_id is None:
                self.reject(line, "inventory", "plant", "unknown plant of yours")
                continue
            values.append(
                (
                    line,
                    {
                        "asset_id": ref.id,
                        "plant_id": plant_id,
                        "location": r.location,
                        "quantity": r.quantity,
                        "unit": r.unit,
                        "updated_at": utcnow(),
                    },
                )
            )
        self.upsert(
            InventoryPosition,
            "inventory",
            values,
            key=("asset_id", "plant_id", "location"),
            compare=("quantity", "unit"),
        )


def _shown(text: str | None) -> str | None:
    """Text quoted from a row, with NUL characters written out: a report never carries them (PostgreSQL, JSON)."""
    return None if text is None else text.replace("\x00", "\\u0000")
