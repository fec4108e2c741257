"""Where traces and logs go in the deployments: Jaeger in compose, the collector's address in
Kubernetes, Alloy shipping the JSON logs to Loki with the labels that matter, and Grafana
joining a log line's trace_id to its trace."""

from __future__ import annotations

import re

import yaml

from harness.services import REPO_ROOT

COMPOSE = yaml.safe_load((REPO_ROOT / "docker/docker-compose.yml").read_text())
ALLOY = {name: (REPO_ROOT / "deploy/alloy" / f"{name}.alloy").read_text() for name in ("compose", "kubernetes")}


def test_compose_traces_every_role_into_jaeger() -> None:
    services = COMPOSE["services"]
    jaeger = services["jaeger"]
    assert jaeger["image"].startswith("jaegertracing/all-in-one:")
    assert jaeger["ports"] == ["127.0.0.1:16686:16686"]  # the UI on the host's loopback only
    backend_env = COMPOSE["x-backend-env"]
    assert backend_env["OTEL_EXPORTER_OTLP_ENDPOINT"].endswith("http://jaeger:4318}")
    assert "{trace_id}" in backend_env["TRACE_URL_TEMPLATE"]


def test_kubernetes_exports_sampled_traces_to_the_collector() -> None:
    config = yaml.safe_load((REPO_ROOT / "deploy/k8s/base/config.yaml").read_text())["data"]
    assert config["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http://") and config[
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    ].endswith(":4318")
    assert (
        config["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
        and 0 < float(config["OTEL_TRACES_SAMPLER_ARG"]) <= 1
    )


def test_alloy_labels_the_logs_by_role_level_and_camera() -> None:
    for name, config in ALLOY.items():
        assert 'target_label  = "role"' in config, name
        assert 'values = { level = "", camera = "" }' in config, name
        # Unbounded values stay out of the labels.
        assert re.search(
            r"structured_metadata \{\s*values = \{ trace_id = \"\", span_id = \"\", event_id = \"\" \}", config
        )
        assert 'url = sys.env("LOKI_URL")' in config
    kept = re.search(r'regex\s+= "\(([^)]+)\)"\s+action\s+= "keep"', ALLOY["compose"])
    assert kept is not None
    roles = set(kept.group(1).split("|"))
    backend = {
        name for name, service in COMPOSE["services"].items() if service.get("image", "").startswith("speedcam-")
    }
    assert roles == backend, "Alloy must keep exactly the SpeedCam containers"
    components = {
        labels["app.kubernetes.io/component"]
        for path in (REPO_ROOT / "deploy/k8s/base").glob("*.yaml")
        for document in yaml.safe_load_all(path.read_text())
        if document and document.get("kind") in ("Deployment", "StatefulSet")
        for labels in [document["spec"]["template"]["metadata"]["labels"]]
    }
    assert components and all(component for component in components)


def test_grafana_joins_logs_and_traces() -> None:
    provisioning = yaml.safe_load((REPO_ROOT / "deploy/grafana/provisioning/datasources/speedcam.yml").read_text())
    sources = {source["type"]: source for source in provisioning["datasources"]}
    assert set(sources) == {"prometheus", "loki", "jaeger"}
    [derived] = sources["loki"]["jsonData"]["derivedFields"]
    assert derived["matcherRegex"] == "trace_id" and derived["datasourceUid"] == sources["jaeger"]["uid"]
    assert sources["jaeger"]["jsonData"]["tracesToLogsV2"]["datasourceUid"] == sources["loki"]["uid"]
