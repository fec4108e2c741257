"""deploy/k8s rendered by kustomize (kubectl's) and validated with kubernetes-validate against
a pinned Kubernetes version; custom resources (KEDA, the RabbitMQ operator) checked by hand."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from backend.messaging.topology import ALL_QUEUES
from harness.services import REPO_ROOT, documented_settings

pytestmark = pytest.mark.standalone  # no service, database or role process: see scripts/test.sh

KUBERNETES_VERSION = "1.31.0"
K8S = REPO_ROOT / "deploy/k8s"
CUSTOM_KINDS = {"ScaledObject", "TriggerAuthentication", "RabbitmqCluster"}


def _kubectl() -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl (with its built-in kustomize v5) is not installed")
    return kubectl


def render(directory: Path) -> list[dict]:
    result = subprocess.run([_kubectl(), "kustomize", str(directory)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "deprecated" not in result.stderr, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """The production overlay, with its secret files filled from secrets.example/."""
    copy = tmp_path_factory.mktemp("k8s") / "k8s"
    shutil.copytree(K8S, copy)
    overlay = copy / "overlays/production"
    shutil.copytree(overlay / "secrets.example", overlay / "secrets")
    rendered = tmp_path_factory.mktemp("rendered") / "production.yaml"
    documents = render(overlay)
    rendered.write_text(yaml.safe_dump_all(documents))
    return rendered, documents


def _by_kind(documents: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == kind}


def test_the_base_renders_on_its_own() -> None:
    documents = render(K8S / "base")
    assert len(_by_kind(documents, "Deployment")) == 7


def test_the_rendered_manifests_are_valid_for_the_pinned_kubernetes(production: tuple[Path, list[dict]]) -> None:
    rendered, _ = production
    result = subprocess.run(
        [sys.executable, "-m", "kubernetes_validate", "-k", KUBERNETES_VERSION, "--strict", str(rendered)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    warnings = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("WARN")]
    unvalidated = {re.search(r"kind (\w+)", line).group(1) for line in warnings}
    assert unvalidated <= CUSTOM_KINDS, warnings
    assert "passed for resource deployment/speedcam-web" in result.stdout


def test_a_deployment_per_role_with_probes_resources_and_no_root(production: tuple[Path, list[dict]]) -> None:
    _, documents = production
    deployments = _by_kind(documents, "Deployment")
    assert set(deployments) == {
        "speedcam-web",
        "speedcam-ingest",
        "speedcam-ocr-worker",
        "speedcam-alert-worker",
        "speedcam-maintenance-worker",
        "speedcam-beat",
        "speedcam-flower",
    }
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        (container,) = pod["containers"]
        assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"], name
        assert container["resources"]["limits"]["memory"], name
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        script = container["command"][0]
        if script.startswith("scripts/"):
            assert (REPO_ROOT / script).is_file(), f"{name} runs {script}, which does not exist"
        assert "/" in container["image"] and ":" in container["image"], f"{name}: image not from the registry"
        if name != "speedcam-beat":
            assert "livenessProbe" in container and "readinessProbe" in container, name
    web = deployments["speedcam-web"]["spec"]["template"]["spec"]["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # A worker is ready when it consumes (backend.common.role_endpoint), not when it merely runs.
    for name in ("speedcam-ingest", "speedcam-ocr-worker", "speedcam-alert-worker", "speedcam-maintenance-worker"):
        (worker,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        assert worker["readinessProbe"]["httpGet"]["path"] == "/ready", name
    beat = deployments["speedcam-beat"]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"


def test_every_secret_a_pod_uses_is_generated(production: tuple[Path, list[dict]]) -> None:
    _, documents = production
    secrets = set(_by_kind(documents, "Secret"))
    for kind in ("Deployment", "Job"):
        for name, workload in _by_kind(documents, kind).items():
            pod = workload["spec"]["template"]["spec"]
            used = {
                source["secretRef"]["name"]
                for container in pod["containers"]
                for source in container.get("envFrom", [])
                if "secretRef" in source
            } | {volume["secret"]["secretName"] for volume in pod.get("volumes", []) if "secret" in volume}
            assert used <= secrets, f"{name} uses {used - secrets}"


def test_every_file_a_setting_names_is_mounted_in_that_pod(production: tuple[Path, list[dict]]) -> None:
    _, documents = production
    (config,) = _by_kind(documents, "ConfigMap").values()
    for kind in ("Deployment", "Job"):
        for name, workload in _by_kind(documents, kind).items():
            (container,) = workload["spec"]["template"]["spec"]["containers"]
            values = [*config["data"].values(), *(variable["value"] for variable in container.get("env", []))]
            mounts = [mount["mountPath"] for mount in container.get("volumeMounts", [])]
            for value in values:
                if str(value).startswith("/var/run/secrets/"):
                    assert any(value.startswith(f"{mount}/") for mount in mounts), f"{name}: {value} is not mounted"


def test_disruption_budgets_cover_the_scaled_roles(production: tuple[Path, list[dict]]) -> None:
    _, documents = production
    components = {
        deployment["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
        for deployment in _by_kind(documents, "Deployment").values()
    }
    covered = {
        budget["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
        for budget in _by_kind(documents, "PodDisruptionBudget").values()
    }
    assert covered == {"web", "ingest", "ocr", "alert"} and covered <= components


def test_keda_scales_the_workers_on_their_queues(production: tuple[Path, list[dict]]) -> None:
    _, documents = production
    deployments = _by_kind(documents, "Deployment")
    queues = {queue.name for queue in ALL_QUEUES}
    authentications = _by_kind(documents, "TriggerAuthentication")
    secrets = _by_kind(documents, "Secret")
    scaled = {}
    for scaled_object in _by_kind(documents, "ScaledObject").values():
        spec = scaled_object["spec"]
        assert spec["scaleTargetRef"]["name"] in deployments
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        (trigger,) = spec["triggers"]
        assert trigger["type"] == "rabbitmq" and trigger["metadata"]["queueName"] in queues
        assert trigger["authenticationRef"]["name"] in authentications
        scaled[spec["scaleTargetRef"]["name"]] = trigger["metadata"]["queueName"]
    assert scaled == {"speedcam-ocr-worker": "ocr_queue", "speedcam-alert-worker": "fcm_queue"}
    for authentication in authentications.values():
        for reference in authentication["spec"]["secretTargetRef"]:
            assert reference["key"] in secrets[reference["name"]]["data"]


def test_rabbitmq_cluster_has_mqtts_and_metrics(production: tuple[Path, list[dict]]) -> None:
    _, documents = production
    (cluster,) = _by_kind(documents, "RabbitmqCluster").values()
    spec = cluster["spec"]
    assert {"rabbitmq_mqtt", "rabbitmq_prometheus"} <= set(spec["rabbitmq"]["additionalPlugins"])
    assert spec["tls"]["secretName"]
    assert "mqtt.listeners.ssl.default = 8883" in spec["rabbitmq"]["additionalConfig"]
    public = [s for s in _by_kind(documents, "Service").values() if s["spec"].get("type") == "LoadBalancer"]
    assert [port["port"] for service in public for port in service["spec"]["ports"]] == [8883]


def test_the_config_map_sets_only_documented_settings(production: tuple[Path, list[dict]]) -> None:
    _, documents = production
    documented = documented_settings()
    (config,) = _by_kind(documents, "ConfigMap").values()
    assert set(config["data"]) - documented == set()
    assert config["data"]["DJANGO_SETTINGS_MODULE"] == "backend.config.settings.prod"
