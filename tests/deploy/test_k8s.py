"""The Kubernetes manifests: every long-running container is probed, the worker's probe is the one `hub worker`
serves, and the NetworkPolicy lets hub pods reach only DNS, PostgreSQL and public addresses."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"


def manifest(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((K8S / name).read_text())
    return document


def containers(name: str) -> list[dict[str, Any]]:
    spec: list[dict[str, Any]] = manifest(name)["spec"]["template"]["spec"]["containers"]
    return spec


def test_every_deployment_is_applied_and_its_containers_have_liveness_and_readiness_probes() -> None:
    resources = manifest("kustomization.yaml")["resources"]
    deployments = [name for name in resources if manifest(name)["kind"] == "Deployment"]
    assert set(deployments) == {"deployment.yaml", "worker-deployment.yaml"}
    for name in deployments:
        for container in containers(name):
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                assert probe in container, f"{name}: {container['name']} has no {probe}"


def test_the_worker_probe_asks_the_port_the_worker_is_told_to_answer_on() -> None:
    (worker,) = containers("worker-deployment.yaml")
    args = worker["args"]
    port = int(args[args.index("--health-port") + 1])
    named = {p["name"]: p["containerPort"] for p in worker["ports"]}
    assert named[worker["livenessProbe"]["httpGet"]["port"]] == port
    assert worker["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert worker["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_the_network_policy_lets_hub_pods_reach_only_dns_postgresql_and_public_addresses() -> None:
    assert "networkpolicy.yaml" in manifest("kustomization.yaml")["resources"]
    policy = manifest("networkpolicy.yaml")
    assert policy["kind"] == "NetworkPolicy"
    assert policy["spec"]["policyTypes"] == ["Egress"]
    # Every hub pod: the API's, the worker's and the migration Job's share this label.
    selector = policy["spec"]["podSelector"]["matchLabels"]
    for name in ("deployment.yaml", "worker-deployment.yaml", "migrate-job.yaml"):
        labels = manifest(name)["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), name
    rules = policy["spec"]["egress"]
    ports = [sorted((p["protocol"], p["port"]) for p in rule["ports"]) for rule in rules]
    assert ports == [[("TCP", 53), ("UDP", 53)], [("TCP", 5432)], [("TCP", 80), ("TCP", 443)]]
    assert all(rule.get("to") for rule in rules), "a rule without 'to' would allow every destination"
    public = rules[2]["to"]
    for block in public:
        networks = [ipaddress.ip_network(cidr) for cidr in block["ipBlock"]["except"]]
        inward = ["10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "127.0.0.1", "fd00::1", "::1"]
        for address in map(ipaddress.ip_address, inward):
            if address.version == ipaddress.ip_network(block["ipBlock"]["cidr"]).version:
                assert any(address in net for net in networks), f"{address} is reachable"
