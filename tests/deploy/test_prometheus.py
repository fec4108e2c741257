"""The monitoring kit with Debian's real Prometheus: the rules' own unit tests, and a live
scrape of every role of the running pipeline through deploy/prometheus/compose.yml's jobs."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from harness.processes import (
    ALERT_METRICS_PORT,
    MAINTENANCE_METRICS_PORT,
    OCR_METRICS_PORT,
    SUBSCRIBER_METRICS_PORT,
    Pipeline,
    endpoint_ready,
    wait_for,
)
from harness.services import REPO_ROOT, free_port

KIT = REPO_ROOT / "deploy/prometheus"
pytestmark = pytest.mark.django_db(databases="__all__")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (./scripts/test.sh installs Debian's prometheus)")
    return path


def test_alert_rules_pass_their_unit_tests() -> None:
    result = subprocess.run(
        [_tool("promtool"), "test", "rules", "speedcam.rules.test.yml"],
        cwd=KIT / "rules",
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_has_a_unit_test() -> None:
    rules = yaml.safe_load((KIT / "rules/speedcam.rules.yml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    tests = yaml.safe_load((KIT / "rules/speedcam.rules.test.yml").read_text())
    tested = {case["alertname"] for test in tests["tests"] for case in test["alert_rule_test"] if case["exp_alerts"]}
    assert alerts == tested
    assert {
        "SpeedcamDeadLetters",
        "SpeedcamOcrBacklogGrowing",
        "SpeedcamAlertBacklogGrowing",
        "SpeedcamRejectedEvents",
        "SpeedcamPushFailureRate",
        "SpeedcamReviewRateJump",
        "SpeedcamCameraSilent",
        "SpeedcamStaleWorkSwept",
        "SpeedcamRoleDown",
    } <= alerts


def test_the_dashboard_queries_only_series_the_roles_export() -> None:
    dashboard = json.loads((REPO_ROOT / "deploy/grafana/dashboards/speedcam-pipeline.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    assert len(expressions) >= 15
    exported = (REPO_ROOT / "backend").rglob("*.py")
    names = "\n".join(path.read_text() for path in exported)
    for expression in expressions:
        for series in set(re.findall(r"\bspeedcam_[a-z_]+", expression)):
            base = series.removesuffix("_bucket").removesuffix("_total")
            assert f'"{base}' in names, f"{series} in the dashboard is exported by no role"


def _get_json(url: str) -> dict:
    return json.load(urllib.request.urlopen(url, timeout=5))


@pytest.fixture(scope="module")
def web(pipeline: Pipeline) -> Iterator[tuple[int, str]]:
    """gunicorn with two workers, as the web role runs, with a scraper token."""
    port, token = free_port(), secrets.token_urlsafe(32)

    process = pipeline.role(
        "web",
        [str(REPO_ROOT / "scripts/start_main.sh"), "web"],
        lambda _: endpoint_ready(f"http://127.0.0.1:{port}/healthz"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="2",
        METRICS_TOKEN=token,
    )
    process.start()
    yield port, token
    process.stop()


def _scrape_web(port: int, token: str) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {token}"})
    return urllib.request.urlopen(request, timeout=5).read().decode()


def _healthz_requests(text: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "django_http_responses_total_by_status_view_method_total"
        and sample.labels.get("view") == "healthz"
    )


def test_web_metrics_count_every_gunicorn_worker(web: tuple[int, str]) -> None:
    port, token = web
    before = _healthz_requests(_scrape_web(port, token))
    url = f"http://127.0.0.1:{port}/healthz"
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: urllib.request.urlopen(url, timeout=5).read(), range(60)))
    # Each scrape lands on one worker; with the multiprocess directory each sees them all.
    for _ in range(6):
        assert _healthz_requests(_scrape_web(port, token)) - before == 60


@pytest.fixture(scope="module")
def prometheus(pipeline: Pipeline, web: tuple[int, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's Prometheus with the kit's scrape jobs and rules, pointed at this machine."""
    directory = tmp_path_factory.mktemp("prometheus")
    web_port, token = web
    maintenance, _ = pipeline.maintenance_roles()
    maintenance.start()

    local_targets = {
        "speedcam-web": f"127.0.0.1:{web_port}",
        "speedcam-ingest": f"127.0.0.1:{SUBSCRIBER_METRICS_PORT}",
        "speedcam-ocr": f"127.0.0.1:{OCR_METRICS_PORT}",
        "speedcam-alert": f"127.0.0.1:{ALERT_METRICS_PORT}",
        "speedcam-maintenance": f"127.0.0.1:{MAINTENANCE_METRICS_PORT}",
        "rabbitmq": f"127.0.0.1:{pipeline.services.rabbitmq_prometheus_port}",
    }
    port = free_port()
    local_targets["prometheus"] = f"127.0.0.1:{port}"
    config = yaml.safe_load((KIT / "compose.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(KIT / "rules/speedcam.rules.yml")]
    (directory / "token").write_text(token)
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": [local_targets.pop(job["job_name"])]}]
        if "authorization" in job:
            job["authorization"]["credentials_file"] = str(directory / "token")
    assert local_targets == {}, f"the kit has no job for {local_targets}"
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
    check = subprocess.run(
        [_tool("promtool"), "check", "config", str(directory / "prometheus.yml")], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    log = (directory / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            _tool("prometheus"),
            f"--config.file={directory / 'prometheus.yml'}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: endpoint_ready(f"{url}/-/ready"), timeout=30, what="prometheus ready")
        yield url
    finally:
        process.terminate()
        process.wait(20)
        maintenance.stop()


def _query(url: str, expression: str) -> list[dict]:
    return _get_json(f"{url}/api/v1/query?query={urllib.parse.quote(expression)}")["data"]["result"]


def test_prometheus_scrapes_every_role(prometheus: str) -> None:
    def all_up() -> list[dict] | None:
        targets = _get_json(f"{prometheus}/api/v1/targets")["data"]["activeTargets"]
        return targets if targets and all(target["health"] == "up" for target in targets) else None

    try:
        targets = wait_for(all_up, timeout=30, interval=0.5, what="every target up")
    except AssertionError:
        targets = _get_json(f"{prometheus}/api/v1/targets")["data"]["activeTargets"]
        pytest.fail(json.dumps([(t["labels"]["job"], t["health"], t["lastError"]) for t in targets], indent=1))
    assert {target["labels"]["job"] for target in targets} == {
        "speedcam-web",
        "speedcam-ingest",
        "speedcam-ocr",
        "speedcam-alert",
        "speedcam-maintenance",
        "rabbitmq",
        "prometheus",
    }


@pytest.mark.parametrize(
    ("expression", "job"),
    [
        ('speedcam_queue_messages{queue="ocr_queue"}', "speedcam-ocr"),
        ('speedcam_queue_messages{queue="fcm_queue"}', "speedcam-alert"),
        ('speedcam_queue_messages{queue="dlq_queue"}', "speedcam-maintenance"),
        ("speedcam_cameras_silent", "speedcam-ingest"),
        ("django_http_responses_total_by_status_view_method_total", "speedcam-web"),
        ('rabbitmq_queue_messages_ready{queue="ocr_queue"}', "rabbitmq"),
    ],
)
def test_key_series_are_scraped(prometheus: str, expression: str, job: str) -> None:
    results = wait_for(lambda: _query(prometheus, expression), timeout=20, interval=0.5, what=expression)
    assert job in {result["metric"]["job"] for result in results}


def test_the_alert_rules_are_loaded_and_evaluate(prometheus: str) -> None:
    def evaluated() -> list[dict] | None:
        groups = _get_json(f"{prometheus}/api/v1/rules")["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        return rules if rules and all(rule.get("lastEvaluation", "").startswith("20") for rule in rules) else None

    rules = wait_for(evaluated, timeout=20, interval=0.5, what="rules evaluated")
    assert len(rules) == 9
    assert all(rule["health"] == "ok" for rule in rules), [(r["name"], r.get("lastError")) for r in rules]
    # Every role is up: not even a pending "role down".
    assert _query(prometheus, 'ALERTS{alertname="SpeedcamRoleDown"}') == []
