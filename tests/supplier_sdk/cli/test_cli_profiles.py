"""Named profiles in one config file: `--profile` and QUALINK_PROFILE choose the hub and the credentials, the
file's default applies when neither does, an option or variable still wins, and without a file nothing changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol.models.common import OrgKind
from supplier_sdk.config import load_config
from supplier_sdk.errors import ConfigError
from tests.supplier_sdk.cli.cli_support import cli
from tests.supplier_sdk.test_client_support import Network, Party, closed_url, running_network

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "cli_profiles") as network:
        yield network


def write_config(folder: Path, text: str) -> dict[str, str]:
    path = folder / "config.toml"
    path.write_text(text)
    return {"QUALINK_CONFIG": str(path)}


def profile(name: str, url: str, party: Party, folder: Path) -> str:
    key = party.write_key(folder)
    return f'[profiles.{name}]\nhub_url = "{url}"\nclient_id = "{party.client_id}"\nkey_file = "{key.name}"\n'


def test_profiles_choose_hub_and_credentials(network: Network, tmp_path: Path) -> None:
    aurora, borealis = network.register(OrgKind.SUPPLIER), network.register(OrgKind.SUPPLIER)
    network.agree(borealis)
    text = 'default_profile = "aurora"\n' + profile("aurora", network.base_url, aurora, tmp_path)
    text += profile("borealis", network.base_url, borealis, tmp_path) + profile(
        "down", closed_url(), aurora, tmp_path
    )
    env = write_config(tmp_path, text)

    assert cli(env, "agreements", "list") == "no agreements\n"  # the default profile: aurora
    [agreement] = json.loads(cli(env, "--profile", "borealis", "agreements", "list", "--json"))
    assert agreement["supplier_id"] == str(borealis.org_id)
    assert json.loads(cli({**env, "QUALINK_PROFILE": "borealis"}, "agreements", "list", "--json")) == [
        agreement
    ]
    assert cli({**env, "QUALINK_PROFILE": "borealis"}, "--profile", "aurora", "agreements", "list") == (
        "no agreements\n"
    )  # the option wins over the variable
    assert cli(env, "--profile", "down", "agreements", "list", status=1).startswith("error: ")  # unreachable
    overridden = {**env, "QUALINK_HUB_URL": network.base_url}
    assert (
        cli(overridden, "--profile", "down", "agreements", "list") == "no agreements\n"
    )  # the variable wins

    listed = json.loads(cli(env, "profiles", "list", "--json"))
    assert listed["default_profile"] == "aurora"
    assert [(p["name"], p["client_id"]) for p in listed["profiles"]] == [
        ("aurora", aurora.client_id),
        ("borealis", borealis.client_id),
        ("down", aurora.client_id),
    ]
    assert listed["profiles"][0]["key_file"] == str(tmp_path / f"{aurora.client_id}.pem")
    assert cli(env, "profiles", "list").splitlines()[0].startswith("* aurora")


def test_a_profile_name_the_file_lacks_is_an_error_naming_the_ones_it_has(tmp_path: Path) -> None:
    env = write_config(tmp_path, '[profiles.aurora]\nhub_url = "https://hub.aurora.example"\n')

    error = cli(env, "--profile", "nope", "agreements", "list", status=2)
    assert error == f"error: no profile 'nope' in {tmp_path / 'config.toml'} (profiles: aurora)\n"
    assert "no profile 'nope'" in cli({**env, "QUALINK_PROFILE": "nope"}, "outbox", "list", status=2)
    missing = {"QUALINK_CONFIG": str(tmp_path / "none.toml")}
    assert "(profiles: none)" in cli(missing, "--profile", "aurora", "keys", "list", status=2)


def test_a_malformed_config_file_is_refused_saying_where(tmp_path: Path) -> None:
    bad_toml = write_config(tmp_path, "[profiles.a\n")
    assert "is not valid TOML" in cli(bad_toml, "profiles", "list", status=2)
    assert "line 1" in cli(bad_toml, "profiles", "list", status=2)
    typo = write_config(tmp_path, '[profiles.a]\nhub = "https://x.example"\n')
    assert "profiles.a has unknown setting 'hub'" in cli(typo, "agreements", "list", status=2)
    wrong_default = write_config(tmp_path, 'default_profile = "b"\n[profiles.a]\n')
    assert "default_profile 'b' is not one of its profiles" in cli(
        wrong_default, "profiles", "list", status=2
    )


def test_without_a_config_file_the_variables_work_as_before(tmp_path: Path) -> None:
    environ = {
        "QUALINK_CONFIG": str(tmp_path / "absent.toml"),
        "QUALINK_HUB_URL": "https://hub.example/",
        "QUALINK_CLIENT_ID": "qlc_1",
        "QUALINK_KEY_FILE": "/keys/org.key",
    }
    config = load_config(environ=environ)
    assert (config.hub_url, config.client_id, config.key_file, config.profile) == (
        "https://hub.example",
        "qlc_1",
        Path("/keys/org.key"),
        None,
    )
    with pytest.raises(ConfigError, match="no profile 'x'"):
        load_config(environ={**environ, "QUALINK_PROFILE": "x"})
