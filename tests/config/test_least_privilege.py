"""Each worker role has its own database and broker login with only what it needs."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
import pymysql
import pytest
from django.db import connections

from backend.config.db_roles import ROLE_GRANTS, grant_statements
from backend.contracts.events import TOPIC_DETECTIONS_COMPLETED, detections_new_topic

pytestmark = [pytest.mark.integration, pytest.mark.django_db(databases="__all__")]


def _connect(services, role: str, database: str) -> pymysql.Connection:
    upper = role.upper()
    return pymysql.connect(
        host="127.0.0.1",
        port=int(services.env["DB_PORT"]),
        user=services.env[f"DB_USER_{upper}"],
        password=services.env[f"DB_PASSWORD_{upper}"],
        database=database,
    )


def _can(connection: pymysql.Connection, sql: str) -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    except Exception as error:  # pymysql's error classes are re-created once Django loads it
        assert error.args and error.args[0] in (1142, 1143, 1044), error
        return False
    return True


def test_the_ocr_worker_cannot_read_users_sessions_or_api_tokens(services) -> None:
    default = connections["default"].settings_dict["NAME"]
    detections = connections["detections_db"].settings_dict["NAME"]
    with _connect(services, "ocr", default) as ocr:
        for query in (
            "SELECT * FROM auth_user LIMIT 1",
            "SELECT * FROM authtoken_token LIMIT 1",
            "SELECT * FROM django_session LIMIT 1",
        ):
            assert not _can(ocr, query), query
        assert _can(ocr, "SELECT * FROM django_celery_results_taskresult LIMIT 1")
    with _connect(services, "ocr", detections) as ocr:
        assert _can(ocr, "SELECT id FROM detections LIMIT 1")
        assert not _can(ocr, "DELETE FROM detections WHERE id = -1")
        assert not _can(ocr, "SELECT * FROM cameras LIMIT 1")


def test_the_alert_worker_writes_notifications_but_not_detections(services) -> None:
    detections = connections["detections_db"].settings_dict["NAME"]
    with _connect(services, "alert", detections) as alert:
        assert _can(alert, "SELECT id FROM detections LIMIT 1")
        assert not _can(alert, "UPDATE detections SET status = status WHERE id = -1")


def test_grant_statements_name_only_the_role_s_tables() -> None:
    statements = grant_statements(
        "ocr", user="o'cr", hosts=["%"], databases={"default": "d", "detections_db": "x", "vehicles_db": "v"}
    )
    assert statements[0] == "REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'o''cr'@'%'"
    assert "GRANT SELECT ON `v`.`vehicles` TO 'o''cr'@'%'" in statements
    assert not any("auth" in statement or "*" in statement for statement in statements)
    assert set(ROLE_GRANTS) == {"ocr", "alert", "maintenance"}


@pytest.mark.parametrize(
    ("role", "topic"), [("ocr", detections_new_topic("cam-01")), ("alert", TOPIC_DETECTIONS_COMPLETED)]
)
def test_a_worker_may_not_publish_events_that_are_not_its_own(services, role: str, topic: str) -> None:
    closed, connected = threading.Event(), threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"least-{role}", protocol=mqtt.MQTTv311)
    client.username_pw_set(services.env[f"BROKER_USER_{role.upper()}"], services.env[f"BROKER_PASSWORD_{role.upper()}"])
    client.on_connect = lambda *args: connected.set()
    client.on_disconnect = lambda *args: closed.set()
    client.connect("127.0.0.1", services.mqtt_port)
    client.loop_start()
    try:
        assert connected.wait(10)
        info = client.publish(topic, b"{}", qos=1)
        assert closed.wait(10) and not info.is_published()
    finally:
        client.loop_stop()
