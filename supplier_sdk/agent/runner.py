"""One pass of the agent over its mappings, and the loop that repeats it at each period's close.

For each mapping and each closed period not settled yet (the newest ``backfill`` periods of the agreement's
kind, in the supplier's time zone), :class:`Agent` reads the period's rows from the source, builds the report
with :mod:`supplier_sdk.reports`, proves it with :func:`supplier_sdk.attest.attest_report` when the agreement's
disclosure asks, and submits the pass's reports with :meth:`client.kpi_reports.submit_batch
<supplier_sdk.kpi_reports.KpiReports.submit_batch>` (up to :data:`BATCH` a request), queueing them in the outbox when the
hub is away or answers 429/5xx. A mapping's bad input (a missing column, an empty period, an
unreadable file, a failing query, too few values) is that mapping's outcome with the reason; the other mappings
still run; a report is either sent or queued whole, never in part.

Example::

    agent = Agent(load_agent_config("agent.toml"), client=hub, outbox=Outbox("outbox.db"))
    for outcome in agent.run_pass():
        print(outcome.mapping, outcome.period, outcome.outcome, outcome.reason)
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from protocol.models.agreements import Agreement
from protocol.models.kpi import KpiReportPayload
from protocol.periods import due_at
from supplier_sdk.agent.config import AgentConfig, Mapping
from supplier_sdk.agent.outcomes import (
    BATCH,
    MappingFailed,
    Outcome,
    Prepared,
    as_float,
    failed,
    hub_reason,
    idempotency_key,
)
from supplier_sdk.agent.schedule import Window, closed_windows, next_close, window_of
from supplier_sdk.agent.sources import (
    FolderReader,
    SourceError,
    Table,
    command_table,
    measurements,
    sql_table,
)
from supplier_sdk.agent.status import AgentState, MappingStatus, last_statuses, log_event, write_status
from supplier_sdk.agent.streams import StreamReader, reader_for
from supplier_sdk.attest import WitnessDoesNotMeet, attest_report, needs_proof
from supplier_sdk.client import Client
from supplier_sdk.errors import HubError, HubUnreachable
from supplier_sdk.kpi import KpiInputError, Measurements, capability
from supplier_sdk.outbox import Outbox
from supplier_sdk.reports import build_capability_report, build_ppm_report


class Agent:
    """Runs the mappings of one configuration against one hub client and outbox.

    Args:
        config: the checked configuration.
        client: the hub client (its key signs the reports).
        outbox: where reports wait while the hub is away.
        clock: the current time (aware); tests inject theirs.
        stream: where log lines go (default stderr).
        backend: the KPI-ZK group backend (default: the fastest installed).
    """

    def __init__(
        self,
        config: AgentConfig,
        *,
        client: Client,
        outbox: Outbox,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        stream: TextIO | None = None,
        backend: Any = None,
    ) -> None:
        self.config = config
        self.client = client
        self.outbox = outbox
        self.clock = clock
        self.stream = stream
        self.backend = backend
        self.state = AgentState.load(config.state_file)
        self.engines: dict[str, Any] = {}
        self.statuses = last_statuses(config.status_file)  # a restarted agent keeps showing the last runs
        self._agreements: dict[uuid.UUID, Agreement] = {}
        self._hub_away: Exception | None = None
        self._streams: dict[str, StreamReader] = {}  # this pass's stream sources, fetched once each
        self._windows: dict[str, list[Window]] = {}  # this pass's periods per mapping (for the stream acks)

    def log(self, event: str, level: str = "info", **fields: Any) -> None:
        log_event(event, level=level, stream=self.stream, **fields)

    # -- the data ----------------------------------------------------------------------------------------------

    def _table(self, mapping: Mapping, window: Window, folders: FolderReader) -> Table:
        source = mapping.source
        if source.kind == "folder":
            return folders.read(source, window)
        if source.is_stream:
            return self._stream(source.name).table(window)
        if source.kind == "sql":
            return sql_table(self.engines, source, window)
        return command_table(source, window)

    def _stream(self, name: str) -> StreamReader:
        reader = self._streams.get(name)
        if reader is None:
            reader = reader_for(self.config.sources[name], self.config.time_zone).fetch()
            self._streams[name] = reader
            if reader.unreadable:
                first = reader.unreadable[0]
                self.log(
                    "stream.unreadable",
                    "warning",
                    source=name,
                    count=len(reader.unreadable),
                    first=first.problem,
                )
        return reader

    def _stream_done(self, name: str) -> Any:
        """Whether a message of stream source ``name`` at a time is done for every mapping it feeds."""
        fed = [m.name for m in self.config.mappings if m.source.name == name]

        def done_for(mapping: str, at: datetime) -> bool:
            windows = self._windows.get(mapping)
            if not windows:  # the mapping did not run this pass (its agreement unknown, the agent stopping)
                return False
            if at < min(w.start for w in windows):
                return True  # before every period still reported: it can never count
            window = next((w for w in windows if w.start <= at < w.end), None)
            return window is not None and self.state.is_settled(mapping, str(window.period))

        return lambda at: all(done_for(mapping, at) for mapping in fed)

    def _finish_streams(self, *, send: bool) -> None:
        """Acknowledge the stream messages whose periods are settled; hand back the others (all, on a dry run)."""
        for name, reader in self._streams.items():
            try:
                acked, kept = reader.finish(self._stream_done(name) if send else None)
                self.log("stream.settled", source=name, acknowledged=acked, kept=kept)
            except Exception as exc:  # the next pass reads them again; settled periods drop them then
                self.log(
                    "stream.settle_failed", "warning", source=name, reason=f"{type(exc).__name__}: {exc}"
                )
            finally:
                reader.close()
        self._streams.clear()

    def _agreement(self, mapping: Mapping) -> Agreement:
        known = self._agreements.get(mapping.agreement_id)
        if known is not None:
            return known
        try:
            agreement = self.client.agreements.get(mapping.agreement_id)
            self.outbox.remember_agreement(agreement)
        except (HubUnreachable, HubError) as exc:
            if isinstance(exc, HubError) and not exc.unavailable:
                raise MappingFailed(
                    f"cannot fetch agreement {mapping.agreement_id}: {hub_reason(exc)}"
                ) from None
            cached = self.outbox.cached_agreement(mapping.agreement_id)
            if cached is None:
                raise MappingFailed(
                    f"hub not available and agreement {mapping.agreement_id} never fetched here"
                ) from None
            self._hub_away = exc
            agreement = cached[0]
        self._agreements[mapping.agreement_id] = agreement
        return agreement

    def windows(self, mapping: Mapping, agreement: Agreement, now: datetime) -> list[Window]:
        """The closed periods to report for this mapping, oldest first, within the agreement's validity."""
        found = closed_windows(
            now, agreement.period, self.config.time_zone,
            count=self.config.backfill, delay_minutes=self.config.close_delay_minutes,
        )  # fmt: skip
        valid = [
            w for w in found
            if w.period.end.date() > agreement.valid_from
            and (agreement.valid_until is None or w.period.start.date() <= agreement.valid_until)
        ]  # fmt: skip
        return valid[::-1]

    def _build(
        self, mapping: Mapping, agreement: Agreement, window: Window, data: Measurements
    ) -> KpiReportPayload:
        code = mapping.characteristic
        if code is None and len(agreement.characteristics) == 1:
            code = agreement.characteristics[0].code
        if code is None:
            raise MappingFailed("the agreement has several characteristics: set the mapping's characteristic")
        if mapping.kpi == "ppm":
            return build_ppm_report(
                agreement=agreement,
                characteristic=code,
                period=str(window.period),
                values=data.values,
                now=self.clock(),
            )
        return build_capability_report(
            agreement=agreement, characteristic=code, period=str(window.period), kpi=mapping.kpi,
            values=data.values, subgroup_size=mapping.subgroup_size, subgroup_labels=data.labels, now=self.clock(),
        )  # fmt: skip

    def prepare(
        self, mapping: Mapping, agreement: Agreement, window: Window, folders: FolderReader, *, prove: bool
    ) -> tuple[KpiReportPayload, Outcome]:
        """Read, compute and (with ``prove``, when the agreement asks) prove one period's report; send nothing."""
        period = str(window.period)
        try:
            data = measurements(
                self._table(mapping, window, folders), mapping, where=f"source {mapping.source.name}"
            )
            payload = self._build(mapping, agreement, window, data)
            wants_proof = needs_proof(agreement, payload)
            if wants_proof and prove:
                payload = self._prove(mapping, agreement, payload, data)
        except (SourceError, KpiInputError, WitnessDoesNotMeet, ValueError) as exc:
            raise MappingFailed(str(exc)) from None
        spec = next(c for c in agreement.characteristics if c.code == payload.characteristic)
        local = capability(data.values, lsl=as_float(spec.lsl), usl=as_float(spec.usl), subgroup_size=mapping.subgroup_size,
                           subgroup_labels=data.labels)  # fmt: skip
        figure = {"cpk": local.cpk, "ppk": local.ppk}.get(mapping.kpi, local.ppm["overall"]["total"])
        value = payload.claim.value
        due = due_at(window.period, agreement.report_due_days)
        outcome = Outcome(
            mapping=mapping.name, period=period, outcome="would-send", rows=int(data.values.size), kpi=mapping.kpi,
            figure=figure, meets=payload.claim.meets, sent_value=None if value is None else format(value, "f"),
            proof=payload.proof is not None or wants_proof,
            due=due.isoformat(), late=self.clock() > due,
        )  # fmt: skip
        return payload, outcome

    def _prove(
        self, mapping: Mapping, agreement: Agreement, payload: KpiReportPayload, data: Measurements
    ) -> KpiReportPayload:
        if self._hub_away is not None:
            raise MappingFailed(
                "hub not available: the agreement asks for a proof, whose context needs the hub"
            )
        try:
            context = self.client.kpi_reports.attestation_context(
                agreement.id, kpi=payload.kpi, period=payload.period, characteristic=payload.characteristic
            )
        except (HubUnreachable, HubError) as exc:
            raise MappingFailed(f"cannot fetch the proof's context: {hub_reason(exc)}") from None
        return attest_report(
            payload, agreement=agreement, context=context, values=data.values,
            subgroup_size=mapping.subgroup_size, subgroup_labels=data.labels, backend=self.backend,
        )  # fmt: skip

    # -- sending -----------------------------------------------------------------------------------------------

    def _queue(self, mapping: Mapping, payload: KpiReportPayload, outcome: Outcome, reason: str) -> Outcome:
        key = idempotency_key(mapping, payload.period)
        self.outbox.enqueue(payload, idempotency_key=key, hub_url=self.client.base_url, reason=reason)
        outcome.outcome, outcome.reason = "queued", reason
        return outcome

    def _send(self, ready: list[Prepared]) -> list[Outcome]:
        """Submit the prepared reports as one batch; queue them when the hub is away; settle each."""
        if self._hub_away is None:
            try:
                results = self.client.kpi_reports.submit_batch(
                    [(p, idempotency_key(m, p.period)) for m, p, _, _ in ready]
                )
            except (HubUnreachable, HubError) as exc:
                if isinstance(exc, HubError) and not exc.unavailable:
                    reason = f"the hub refused the request: {hub_reason(exc)}"
                    return [failed(outcome, reason) for _, _, outcome, _ in ready]
                self._hub_away = exc
        done = []
        for index, (mapping, payload, outcome, keep) in enumerate(ready):
            if self._hub_away is not None:
                outcome = self._queue(mapping, payload, outcome, str(self._hub_away))
            else:
                result = results[index]
                if result.status < 300:
                    outcome.outcome = "accepted"
                elif result.status == 429 or result.status >= 500:
                    outcome = self._queue(mapping, payload, outcome, f"{result.error}: {result.detail}")
                else:
                    outcome.outcome = "duplicate" if result.error == "DuplicateReport" else "refused"
                    outcome.reason = f"{result.error}: {result.detail}"
            self.state.settle(mapping.name, payload.period, outcome.outcome, keep)
            done.append(outcome)
        self.state.save(self.config.state_file)
        return done

    def _run_mapping(
        self, mapping: Mapping, folders: FolderReader, now: datetime, *, send: bool
    ) -> list[Outcome | Prepared]:
        try:
            agreement = self._agreement(mapping)
            windows = self.windows(mapping, agreement, now)
        except MappingFailed as exc:
            return [Outcome(mapping=mapping.name, period=None, outcome="failed", reason=str(exc))]
        keep = {str(w.period) for w in windows}
        self._windows[mapping.name] = windows
        found: list[Outcome | Prepared] = []
        for window in windows:
            period = str(window.period)
            if send and self.state.is_settled(mapping.name, period):
                continue
            try:
                payload, outcome = self.prepare(mapping, agreement, window, folders, prove=send)
                found.append((mapping, payload, outcome, keep) if send else outcome)
            except MappingFailed as exc:
                found.append(Outcome(mapping=mapping.name, period=period, outcome="failed", reason=str(exc)))
            except Exception as exc:  # a driver's or parser's surprise fails this mapping, not the agent
                reason = f"unexpected {type(exc).__name__}: {exc}"
                found.append(Outcome(mapping=mapping.name, period=period, outcome="failed", reason=reason))
        return found

    def _record(self, outcome: Outcome, now: datetime) -> Outcome:
        level = "warning" if outcome.outcome in ("failed", "refused") else "info"
        self.log(f"report.{outcome.outcome}", level, **outcome.as_dict())
        self.statuses[outcome.mapping] = MappingStatus(
            mapping=outcome.mapping, period=outcome.period, outcome=outcome.outcome, reason=outcome.reason,
            rows=outcome.rows, at=now.isoformat(),
        )  # fmt: skip
        return outcome

    def run_pass(self, stop: threading.Event | None = None, *, send: bool = True) -> list[Outcome]:
        """Flush the outbox, then report every mapping's closed, unsettled periods; return what happened.

        Reports go in batches of up to :data:`BATCH` (one request, proofs verified together by the hub).
        """
        now = self.clock()
        self._agreements.clear()
        self._windows.clear()
        self._hub_away = None
        try:
            return self._pass(now, stop, send=send)
        finally:
            self._finish_streams(send=send)  # after the reports were sent or queued, never before

    def _pass(self, now: datetime, stop: threading.Event | None, *, send: bool) -> list[Outcome]:
        if send and self.outbox.pending():
            flushed = self.outbox.flush(self.client.kpi_reports)
            self.log("outbox.flushed", sent=flushed.sent, failed=flushed.failed, remaining=flushed.remaining)
        folders = FolderReader(self.state.files, self.config.time_zone)
        outcomes: list[Outcome] = []
        ready: list[Prepared] = []
        for number, mapping in enumerate(self.config.mappings):
            if stop is not None and stop.is_set():
                self.log("agent.stopping", remaining_mappings=len(self.config.mappings) - number)
                break
            for item in self._run_mapping(mapping, folders, now, send=send):
                if isinstance(item, Outcome):
                    outcomes.append(self._record(item, now))
                else:
                    ready.append(item)
            if len(ready) >= BATCH:
                outcomes += [self._record(o, now) for o in self._send(ready)]
                ready = []
        if ready:
            outcomes += [self._record(o, now) for o in self._send(ready)]
        if send:
            folders.forget_absent({s.name for s in self.config.sources.values() if s.kind == "folder"})
            self.state.save(self.config.state_file)
            self.write_status("degraded" if any(o.outcome == "failed" for o in outcomes) else "ok")
        return outcomes

    def write_status(self, health: str) -> None:
        write_status(
            self.config.status_file, health=health, now=self.clock(), mappings=self.statuses, pid=os.getpid()
        )

    def next_wake(self) -> datetime:
        """The earliest of the next period close (of the agreements seen) and the next poll."""
        now = self.clock()
        wake = now + timedelta(seconds=self.config.poll_seconds)
        for agreement in self._agreements.values():
            close = next_close(
                now, agreement.period, self.config.time_zone, delay_minutes=self.config.close_delay_minutes
            )
            wake = min(wake, close)
        return wake

    def run_forever(self, stop: threading.Event) -> None:
        """Pass after pass until ``stop`` is set (SIGTERM); the pass under way finishes its current mapping."""
        self.log("agent.started", mappings=len(self.config.mappings), pid=os.getpid())
        while not stop.is_set():
            self.run_pass(stop)
            stop.wait(max(1.0, (self.next_wake() - self.clock()).total_seconds()))
        self.write_status("stopped")
        self.log("agent.stopped", pending=len(self.outbox.pending()))

    def close(self) -> None:
        for reader in self._streams.values():
            reader.close()
        for engine in self.engines.values():
            engine.dispose()


__all__ = ["Agent", "MappingFailed", "Outcome", "idempotency_key", "window_of"]
