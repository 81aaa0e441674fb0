"""The agent's configuration: the example file is valid, and every mistake names its line and key."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

from supplier_sdk.agent.config import AgentConfigError, load_agent_config, parse_agent_config

EXAMPLE = Path(__file__).parents[3] / "deploy" / "agent" / "agent.example.toml"

GOOD = """\
[agent]
time_zone = "Europe/Berlin"
backfill = 2

[sources.exports]
kind = "folder"
path = "exports"
time_column = "time"

[sources.mes]
kind = "sql"
url = "postgresql+psycopg://reader@db/mes"
query = '''
SELECT diameter FROM measurements
WHERE measured_at >= :period_start AND measured_at < :period_end
'''

[[mappings]]
name = "dia-cpk"
agreement = "01930000-0000-7000-8000-000000000001"
kpi = "cpk"
source = "exports"
value_column = "diameter"

[[mappings]]
name = "dia-ppk"
agreement = "01930000-0000-7000-8000-000000000001"
kpi = "ppk"
source = "mes"
value_column = "diameter"
subgroup_size = 5
"""


def error(text: str) -> str:
    with pytest.raises(AgentConfigError) as caught:
        parse_agent_config(text, name="agent.toml")
    return str(caught.value)


def test_the_example_file_is_valid_and_relative_paths_are_taken_from_its_folder() -> None:
    config = load_agent_config(EXAMPLE)
    assert config.mappings and config.time_zone.key == "Europe/Berlin"
    assert config.state_file.is_absolute()
    assert {m.source.kind for m in config.mappings} == {"folder", "sql", "command", "nats", "kafka"}
    kafka = config.sources["cmm_stream"]
    assert kafka.columns == ("measured_at", "station", "bore") and dict(kafka.settings)["sasl.mechanism"]


def test_a_good_file_parses_with_its_defaults() -> None:
    config = parse_agent_config(GOOD, base=Path("/etc/qualink"))
    assert [m.name for m in config.mappings] == ["dia-cpk", "dia-ppk"]
    assert config.mappings[1].subgroup_size == 5 and config.backfill == 2
    assert config.sources["exports"].path == Path("/etc/qualink/exports")
    assert config.status_file == Path("/etc/qualink/agent-status.json")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('kpi = "ppk"', 'kpi = "cpx"', "agent.toml:28: mappings[1].kpi: 'cpx' is not one of cpk, ppk, ppm"),
        ("subgroup_size = 5", "subgroup_sise = 5", "agent.toml:31: mappings[1].subgroup_sise: unknown key"),
        ("subgroup_size = 5", "subgroup_size = 1", "agent.toml:31: mappings[1].subgroup_size: must be an integer ≥ 2"),
        ('source = "mes"', 'source = "erp"', "agent.toml:29: mappings[1].source: no source 'erp' (sources: exports, mes)"),
        ('"Europe/Berlin"', '"Europe/Berlinn"', "agent.toml:2: agent.time_zone: 'Europe/Berlinn' is not a known"),
        ('kind = "sql"', 'kind = "odbc"', "agent.toml:11: sources.mes.kind: 'odbc' is not one of folder, sql, command"),
        ('time_column = "time"\n', "", "agent.toml:5: sources.exports: a folder source needs 'time_column'"),
        ('name = "dia-ppk"', 'name = "dia-cpk"', "agent.toml:26: mappings[1].name: mapping 'dia-cpk' is named twice"),
        ("backfill = 2", "backfill = 0", "agent.toml:3: agent.backfill: must be a number ≥ 1"),
        ('agreement = "01930000-0000-7000-8000-000000000001"\nkpi = "ppk"', 'agreement = "shafts"\nkpi = "ppk"',
         "agent.toml:27: mappings[1].agreement: 'shafts' is not an agreement id"),
    ],
)  # fmt: skip
def test_each_mistake_names_the_line_of_the_offending_key(old: str, new: str, expected: str) -> None:
    assert GOOD.count(old) >= 1
    assert error(GOOD.replace(old, new, 1)).startswith(expected)


def test_a_missing_key_names_its_table_and_a_syntax_error_tomllibs_line() -> None:
    assert error(GOOD.replace('value_column = "diameter"\nsubgroup_size', "subgroup_size")).startswith(
        "agent.toml:25: mappings[1]: missing key 'value_column'"
    )
    assert "line 3" in error(GOOD.replace("backfill = 2", "backfill = "))
    assert error("[agent]\n").startswith("agent.toml:1: missing key 'mappings'")


STREAMS = """\
[sources.line]
kind = "nats"
url = "nats://127.0.0.1:4222"
subject = "plant.line3"
durable = "agent"
time_column = "at"

[sources.cmm]
kind = "kafka"
url = "127.0.0.1:9092"
topic = "cmm"
durable = "agent"
format = "csv"
columns = ["at", "bore"]
time_column = "at"
settings = { "security.protocol" = "SASL_SSL" }

[[mappings]]
name = "a"
agreement = "01930000-0000-7000-8000-000000000001"
kpi = "cpk"
source = "line"
value_column = "diameter"
"""


def test_stream_sources_parse_with_their_defaults() -> None:
    config = parse_agent_config(STREAMS)
    line, cmm = config.sources["line"], config.sources["cmm"]
    assert (line.kind, line.format, line.wait_seconds, line.is_stream) == ("nats", "json", 2.0, True)
    assert cmm.settings == (("security.protocol", "SASL_SSL"),) and cmm.columns == ("at", "bore")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('subject = "plant.line3"\n', "", "agent.toml:1: sources.line: a nats source needs 'subject'"),
        ('topic = "cmm"\n', "", "agent.toml:8: sources.cmm: a kafka source needs 'topic'"),
        ('durable = "agent"\ntime_column = "at"\n\n[sources.cmm]', 'time_column = "at"\n\n[sources.cmm]',
         "agent.toml:1: sources.line: a nats source needs 'durable'"),
        ('durable = "agent"\ntime_column = "at"\n\n', 'durable = "a.b"\ntime_column = "at"\n\n',
         "agent.toml:5: sources.line.durable: a JetStream consumer name"),
        ('format = "csv"', 'format = "xml"', "agent.toml:13: sources.cmm.format: 'xml' is not one of json, csv"),
        ('columns = ["at", "bore"]\n', "", "agent.toml:8: sources.cmm: a stream of CSV lines needs 'columns'"),
        ('columns = ["at", "bore"]', 'columns = "at,bore"', "agent.toml:14: sources.cmm.columns: must be an array"),
        ('subject = "plant.line3"', 'subject = "plant.line3"\ntopic = "x"', "agent.toml:5: sources.line.topic: a nats"),
        ('settings = { "security.protocol" = "SASL_SSL" }', "settings = 3", "agent.toml:16: sources.cmm.settings: must be"),
        ('time_column = "at"\n\n[sources.cmm]', 'time_column = "at"\nwait_seconds = 0\n\n[sources.cmm]',
         "agent.toml:7: sources.line.wait_seconds: must be a number ≥ 0.1"),
    ],
)  # fmt: skip
def test_each_stream_source_mistake_names_its_line(old: str, new: str, expected: str) -> None:
    assert STREAMS.count(old) >= 1, old
    assert error(STREAMS.replace(old, new, 1)).startswith(expected)


def test_stream_keys_on_a_folder_source_are_refused() -> None:
    text = GOOD.replace('time_column = "time"\n', 'time_column = "time"\ndurable = "x"\n', 1)
    assert error(text).startswith(
        "agent.toml:9: sources.exports.durable: only a nats or kafka source has 'durable'"
    )


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(AgentConfigError, match="cannot read the agent configuration"):
        load_agent_config(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    "name", ["supplier_sdk.agent.config", "supplier_sdk.agent.lines", "supplier_sdk.agent.schedule"]
)
def test_the_docstring_examples_run(name: str) -> None:
    failures, attempted = doctest.testmod(importlib.import_module(name))
    assert attempted > 0 and failures == 0
