"""The Kubernetes manifests: they build with kustomize, every long-running container is probed, the worker's probe
is the one `hub worker` serves, the NetworkPolicy lets hub pods reach only DNS, PgBouncer, PostgreSQL and public
addresses, the HorizontalPodAutoscaler scales the API on a metric the hub exports (through the prometheus-adapter
rule shipped beside it), the hub is pointed at PgBouncer with the settings transaction pooling needs, and the
backup CronJob dumps what the restore drill restores."""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import make_url

from hub.app import create_app
from hub.config import Settings

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"


def documents(name: str) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all((K8S / name).read_text()) if document]


def manifest(name: str) -> dict[str, Any]:
    (document,) = documents(name)
    return document


def resource(name: str, kind: str) -> dict[str, Any]:
    """The one ``kind`` in the file ``name`` (several resources may share a file)."""
    (found,) = [document for document in documents(name) if document["kind"] == kind]
    return found


def applied() -> list[dict[str, Any]]:
    """Every resource kustomization.yaml lists, as written (before kustomize adds the namespace and labels)."""
    return [document for name in manifest("kustomization.yaml")["resources"] for document in documents(name)]


def containers(name: str) -> list[dict[str, Any]]:
    spec: list[dict[str, Any]] = manifest(name)["spec"]["template"]["spec"]["containers"]
    return spec


def test_every_deployment_is_applied_and_its_containers_have_liveness_and_readiness_probes() -> None:
    deployments = [document for document in applied() if document["kind"] == "Deployment"]
    names = {document["metadata"]["name"] for document in deployments}
    assert names == {"qualink-hub", "qualink-worker", "qualink-pgbouncer"}
    for deployment in deployments:
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                assert probe in container, (
                    f"{deployment['metadata']['name']}: {container['name']} has no {probe}"
                )


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
    assert ports == [
        [("TCP", 53), ("UDP", 53)],
        [("TCP", 6432)],
        [("TCP", 5432)],
        [("TCP", 80), ("TCP", 443)],
    ]
    assert all(rule.get("to") for rule in rules), "a rule without 'to' would allow every destination"
    pgbouncer_pods = resource("pgbouncer.yaml", "Deployment")["spec"]["template"]["metadata"]["labels"]
    (to_pgbouncer,) = rules[1]["to"]
    assert set(to_pgbouncer) == {"podSelector"}, "PgBouncer is reached in this namespace only"
    assert to_pgbouncer["podSelector"]["matchLabels"].items() <= pgbouncer_pods.items()
    public = rules[3]["to"]
    for block in public:
        networks = [ipaddress.ip_network(cidr) for cidr in block["ipBlock"]["except"]]
        inward = ["10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "127.0.0.1", "fd00::1", "::1"]
        for address in map(ipaddress.ip_address, inward):
            if address.version == ipaddress.ip_network(block["ipBlock"]["cidr"]).version:
                assert any(address in net for net in networks), f"{address} is reachable"


# -- kustomize ------------------------------------------------------------------------------------------------

KUBECTL = shutil.which("kubectl")


def built(kubectl: str | None) -> list[dict[str, Any]]:
    """``kubectl kustomize deploy/k8s``; without kubectl what it would build, done in Python for what this
    kustomization uses (resources, one namespace, common labels)."""
    if kubectl is not None:
        done = subprocess.run([kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return [document for document in yaml.safe_load_all(done.stdout) if document]
    kustomization = manifest("kustomization.yaml")
    labels = {k: v for pair in kustomization.get("labels", []) for k, v in pair["pairs"].items()}
    out = []
    for document in applied():
        document["metadata"].setdefault("labels", {}).update(labels)
        if document["kind"] != "Namespace":
            document["metadata"]["namespace"] = kustomization["namespace"]
        out.append(document)
    return out


@pytest.mark.parametrize(
    "kubectl",
    [
        pytest.param(KUBECTL, id="kubectl", marks=pytest.mark.skipif(KUBECTL is None, reason="no kubectl")),
        pytest.param(None, id="python"),
    ],
)
def test_the_kustomization_builds_into_uniquely_named_resources_in_one_namespace(kubectl: str | None) -> None:
    documents = built(kubectl)
    keys = [(d["kind"], d["metadata"]["name"]) for d in documents]
    assert len(keys) == len(set(keys)), "two resources of one kind share a name"
    for document in documents:
        assert document.get("apiVersion"), document["metadata"]["name"]
        if document["kind"] != "Namespace":
            assert document["metadata"]["namespace"] == "qualink", keys
    expected = {
        ("HorizontalPodAutoscaler", "qualink-hub"),
        ("Deployment", "qualink-pgbouncer"),
        ("Service", "qualink-pgbouncer"),
        ("CronJob", "qualink-backup"),
        ("PersistentVolumeClaim", "qualink-backups"),
    }
    assert expected <= set(keys)
    # Examples that must never be applied as they are.
    assert not {"Secret", "PodMonitor"} & {kind for kind, _ in keys}


# -- the HorizontalPodAutoscaler ------------------------------------------------------------------------------


def test_the_autoscaler_scales_the_api_on_request_rate_per_pod_and_on_cpu() -> None:
    hpa = manifest("hpa.yaml")
    api = manifest("deployment.yaml")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "qualink-hub",
    }
    assert api["metadata"]["name"] == "qualink-hub"
    assert "replicas" not in api["spec"], (
        "a replica count in the Deployment would undo the HPA on every apply"
    )
    # Two pods stay up through a voluntary disruption the PodDisruptionBudget allows.
    assert hpa["spec"]["minReplicas"] - manifest("pdb.yaml")["spec"]["maxUnavailable"] >= 2
    by_type = {metric["type"]: metric for metric in hpa["spec"]["metrics"]}
    assert set(by_type) == {"Pods", "Resource"}
    assert by_type["Resource"]["resource"]["name"] == "cpu"
    assert by_type["Resource"]["resource"]["target"]["type"] == "Utilization"
    (hub,) = containers("deployment.yaml")
    assert hub["resources"]["requests"]["cpu"], "CPU utilization is measured against the request"
    # One process per pod: each has its own metrics registry, so /metrics is the pod's whole count.
    assert hub["args"][hub["args"].index("--workers") + 1] == "1"
    pods = by_type["Pods"]["pods"]
    assert pods["target"]["type"] == "AverageValue"
    rule = adapter_rule()
    assert pods["metric"]["name"] == rule["name"]["as"], (
        "the HPA asks for a metric the adapter does not serve"
    )


def adapter_rule() -> dict[str, Any]:
    rules, _monitor = documents("prometheus-adapter-rules.yaml")
    (rule,) = rules["rules"]
    return rule


def test_the_adapter_rule_reads_the_request_counter_the_hub_exports(settings: Settings) -> None:
    rule = adapter_rule()
    series = re.match(r"^([a-z_]+)\{", rule["seriesQuery"])
    assert series is not None
    assert re.fullmatch(rule["name"]["matches"].strip("^$"), series[1])
    assert rule["resources"]["overrides"] == {
        "namespace": {"resource": "namespace"},
        "pod": {"resource": "pod"},
    }
    assert "rate(<<.Series>>{<<.LabelMatchers>>" in rule["metricsQuery"]
    with TestClient(create_app(settings)) as client:
        client.get("/healthz")
        client.get("/readyz")
        exported = client.get("/metrics").text
    assert f'{series[1]}{{method="GET",route="/healthz",status="200"}}' in exported
    # The probes the rule leaves out are spelled as the hub labels them.
    excluded = re.search(r'route!~"([^"]+)"', rule["metricsQuery"])
    assert excluded is not None
    for route in ("/healthz", "/readyz"):
        assert re.fullmatch(excluded[1], route)
        assert f'route="{route}"' in exported
    # The PodMonitor scrapes the port and path the API serves /metrics on.
    _rules, monitor = documents("prometheus-adapter-rules.yaml")
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    (hub,) = containers("deployment.yaml")
    assert endpoint["port"] in {port["name"] for port in hub["ports"]}
    assert endpoint["path"] == "/metrics"


# -- PgBouncer ------------------------------------------------------------------------------------------------


def secret_example() -> dict[str, str]:
    data: dict[str, str] = manifest("secret.example.yaml")["stringData"]
    return data


def test_the_hub_goes_through_pgbouncer_in_transaction_mode_with_the_settings_that_needs() -> None:
    ini = resource("pgbouncer.yaml", "ConfigMap")["data"]["pgbouncer.ini"]
    assert re.search(r"^pool_mode = transaction$", ini, re.M)
    port = int(re.search(r"^listen_port = (\d+)$", ini, re.M)[1])  # type: ignore[index]
    service = resource("pgbouncer.yaml", "Service")
    (container,) = resource("pgbouncer.yaml", "Deployment")["spec"]["template"]["spec"]["containers"]
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    (service_port,) = service["spec"]["ports"]
    assert named[service_port["targetPort"]] == port
    pooled = make_url(secret_example()["HUB_DATABASE_URL"])
    assert (pooled.host, pooled.port) == (service["metadata"]["name"], service_port["port"])
    # The database the hub names is one PgBouncer serves, on the server the direct URL reaches.
    served = re.search(rf"^{re.escape(pooled.database or '')} = host=(\S+) port=(\d+)", ini, re.M)
    assert served is not None, f"pgbouncer.ini serves no database {pooled.database!r}"
    direct = make_url(secret_example()["HUB_DATABASE_DIRECT_URL"])
    assert (direct.host, direct.port) == (served[1], int(served[2]))
    # The settings as the hub reads them from the ConfigMap and the Secret.
    environment = {**manifest("configmap.yaml")["data"], **secret_example()}
    hub_settings = {k[4:].lower(): v for k, v in environment.items() if k.startswith("HUB_")}
    hub_settings.pop("token_signing_key")
    parsed = Settings(**{**hub_settings, "environment": "development"})
    assert parsed.database_prepare_threshold is None, "transaction pooling cannot keep prepared statements"
    assert parsed.listener_database_url == secret_example()["HUB_DATABASE_DIRECT_URL"]


def test_pgbouncer_is_applied_with_the_migration_job_which_connects_through_it() -> None:
    assert manifest("migrate-job.yaml")["metadata"]["labels"]["qualink.io/pre-rollout"] == "true"
    for document in documents("pgbouncer.yaml"):
        assert document["metadata"]["labels"].get("qualink.io/pre-rollout") == "true", document["kind"]


def test_only_hub_pods_reach_pgbouncer_and_pgbouncer_reaches_only_dns_and_postgresql() -> None:
    policy = resource("pgbouncer.yaml", "NetworkPolicy")
    pods = resource("pgbouncer.yaml", "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pods.items()
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    (ingress,) = policy["spec"]["ingress"]
    (source,) = ingress["from"]
    hub_pods = manifest("networkpolicy.yaml")["spec"]["podSelector"]["matchLabels"]
    assert source == {"podSelector": {"matchLabels": hub_pods}}
    egress = [sorted((p["protocol"], p["port"]) for p in rule["ports"]) for rule in policy["spec"]["egress"]]
    assert egress == [[("TCP", 53), ("UDP", 53)], [("TCP", 5432)]]


# -- backups --------------------------------------------------------------------------------------------------


def test_the_backup_cronjob_dumps_in_custom_format_onto_its_volume_one_run_at_a_time() -> None:
    cronjob = resource("backup-cronjob.yaml", "CronJob")
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    script = " ".join(container["args"])
    assert "pg_dump --format=custom" in script
    assert "pg_restore --list" in script, "a dump nobody can read is found out at restore time"
    (mount,) = container["volumeMounts"]
    assert f'file="{mount["mountPath"]}/qualink-' in script, "the dump is written onto the volume"
    (volume,) = pod["volumes"]
    assert volume["name"] == mount["name"]
    claim = resource("backup-cronjob.yaml", "PersistentVolumeClaim")
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    (variable,) = container["env"]
    assert f"${variable['name']}" in script
    assert variable["valueFrom"]["secretKeyRef"]["name"] != "qualink-hub", "the backup role is its own"
    # pg_dump connects to PostgreSQL itself, never through PgBouncer's transaction pooling.
    assert "6432" not in script and "pgbouncer" not in script.lower()
