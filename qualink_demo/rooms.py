"""Chapter 5: a joint investigation room. A compressor whines above 40 °C and no single company can explain it.
Aurora opens a room with its compressor supplier; the compressor supplier's motor sub-supplier joins later. They
share encrypted test logs that the hub cannot read, annotate a hypothesis and the root cause, sign off the 8D
and close the room, which shreds the data and keeps a signed 8D summary."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from protocol.models.rooms import Anchor, Evidence, MemberInvite, Person
from qualink_demo.actors import Actor, DemoFailure
from qualink_demo.foundation import onboard
from qualink_demo.story import Story
from supplier_sdk import Client
from supplier_sdk.rooms.client import DatasetUnavailable

MOTOR_SUPPLIER = "Nordvik Elmotor AS"


def _client(actor: Actor) -> Client:
    return Client(
        base_url=actor.base_url,
        client_id=actor.client_id,
        private_key=actor.signing_key,
        encryption_key=actor.encryption_key,
    )


def _test_log(path: Path, *, rows: int, onset_row: int, column: str) -> Path:
    """A bench log: noise rises once the temperature passes 40 °C (row ``onset_row``)."""
    lines = [f"t_s,rpm,{column},noise_db"]
    for row in range(rows):
        temperature = 25.0 + row * 0.02
        noise = 61.0 + (row % 5) * 0.1 + (6.5 if row >= onset_row else 0.0)
        lines.append(f"{row},{2950 + row % 9},{temperature:.2f},{noise:.1f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(story: Story) -> None:
    story.chapter(
        "6 · A joint investigation room",
        "Compressor noise above 40 °C: Aurora, its compressor supplier and the motor sub-supplier share\n"
        "test logs encrypted on their own machines; the hub stores ciphertext and wrapped keys only.",
    )
    compressor = story.suppliers[2]
    motor = Actor(MOTOR_SUPPLIER, "supplier", story.console, story.base_url)
    onboard(story, motor)
    motor.register_keys()
    clients = {actor.name: _client(actor) for actor in (story.oem, compressor, motor)}
    oem_rooms, compressor_rooms, motor_rooms = (clients[a.name].rooms for a in (story.oem, compressor, motor))
    folder = Path(tempfile.mkdtemp(prefix="qualink-room-"))
    try:
        room = oem_rooms.open(
            title="Compressor noise above 40 °C (housing HS-7700)",
            description="Field returns: whine at high ambient temperature.",
            expires_at=datetime.now(UTC) + timedelta(days=30),
            people=[Person(name="Anna Berg", email="anna.berg@aurora.example", role="SQE lead")],
            members=[MemberInvite(organization_id=compressor.org_id)],
        )
        story.oem.say(
            f"opened room [italic]{room.title}[/italic], invited {compressor.name}; data deleted at closing"
        )
        compressor_rooms.accept(room.id, people=[Person(name="Erik Lund", email="erik@lindqvist.example")])
        compressor.say("accepted the invitation")

        log = _test_log(
            folder / "compressor-bench-run-17.csv", rows=2400, onset_row=750, column="housing_temp_c"
        )
        bench = compressor_rooms.upload(room.id, log, media_type="text/csv")
        compressor.say(
            f"encrypted and uploaded {bench.name}: {bench.plaintext_size:,} bytes → {bench.ciphertext_size:,} bytes of"
            f" AES-256-GCM ciphertext, key wrapped to 2 members, manifest signed"
        )
        oem_rooms.download(room.id, bench.id, folder / "aurora-copy.csv")
        if (folder / "aurora-copy.csv").read_bytes() != log.read_bytes():
            raise DemoFailure("the decrypted test log differs from the uploaded one")
        story.oem.say(
            "downloaded and decrypted it: signature, SHA-256 and every chunk checked [green]✓[/green]"
        )

        oem_rooms.invite(room.id, motor.org_id)
        motor_rooms.accept(room.id)
        missing = oem_rooms.dataset(room.id, bench.id).missing_keys
        motor.say(f"joined later: the hub holds no key for it ({len(missing)} member without a key)")
        compressor_rooms.rewrap(room.id)
        compressor.say("re-wrapped the data key for the motor sub-supplier (the hub cannot)")
        motor_rooms.download(room.id, bench.id, folder / "nordvik-copy.csv")
        winding = motor_rooms.upload(
            room.id,
            _test_log(folder / "motor-winding-test.csv", rows=1800, onset_row=600, column="winding_temp_c"),
            media_type="text/csv",
        )
        motor.say(
            f"read the bench log and shared its own winding test ({winding.plaintext_size:,} bytes, encrypted)"
        )

        hypothesis = motor_rooms.annotate(
            room.id,
            "Noise starts when the winding passes 40 °C: thermal growth of the rotor?",
            tag="hypothesis",
            anchor=Anchor(dataset_id=bench.id, row_start=750, row_end=2400),
        )
        motor.say("annotated rows 750 to 2400 of the bench log: [yellow]hypothesis[/yellow]")
        root_cause = compressor_rooms.annotate(
            room.id,
            "Confirmed: bearing preload on motor lot M-2291 is 30 % low; the rotor touches the housing when warm.",
            tag="root_cause",
            parent_id=hypothesis.id,
            anchor=Anchor(dataset_id=winding.id, row_start=600, row_end=1800),
        )
        compressor.say("replied with the [red]root cause[/red]: bearing preload on motor lot M-2291")
        motor_rooms.edit_annotation(room.id, hypothesis.id, tag="verified")
        motor.say("marked its hypothesis verified (the earlier version stays in the history)")

        oem_rooms.update_step(
            room.id,
            "D4",
            owner_id=motor.org_id,
            content="Root cause: bearing preload 30 % below specification on motor lot M-2291.",
            evidence=[Evidence(kind="annotation", id=root_cause.id), Evidence(kind="dataset", id=winding.id)],
        )
        motor_rooms.sign_off(room.id, "D4")
        motor.say("owns D4 (root cause) and signed it off")
        oem_rooms.update_step(room.id, "D8", owner_id=story.oem.org_id, content="Preload fixture corrected.")
        oem_rooms.sign_off(room.id, "D8")
        story.oem.say("wrote and signed off D8 (closure)")

        closed = oem_rooms.close(room.id, note="Fixed at the motor sub-supplier; lots after M-2291 verified.")
        shredded = "ciphertext and wrapped keys shredded" if closed.shredded_at else "data kept"
        story.oem.say(f"closed the room: {shredded}, 8D summary signed by the hub")
        try:
            oem_rooms.download(room.id, bench.id, folder / "after-closing.csv")
        except DatasetUnavailable:
            story.oem.say("a download after closing finds nothing: [yellow]shredded[/yellow]")
        else:
            raise DemoFailure("a shredded dataset could still be downloaded")
        summary = oem_rooms.export(room.id)
        story.oem.say(
            f"exported the signed 8D summary ([dim]{summary['type']}, key {summary['key_id'][:12]}…[/dim])"
        )
    finally:
        for client in clients.values():
            client.close()
        motor.close()
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
