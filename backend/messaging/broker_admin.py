"""Broker identities through RabbitMQ's management HTTP API: users, permissions, topic rules.

Each camera gets its own broker user that may publish only on its own topics
(`detections/new/<id>`, `cameras/<id>/status`) and read nothing. RabbitMQ checks MQTT
publishes against *topic permissions* on amq.topic, where MQTT's "/" is AMQP's ".".
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import quote

import requests

from backend.contracts.events import camera_status_topic, detections_new_topic, is_camera_id

MQTT_EXCHANGE = "amq.topic"
NOTHING = "^$"


class BrokerAdminError(RuntimeError):
    """The management API refused or could not be reached; the message says which."""


@dataclass(frozen=True)
class CameraGrant:
    configure: str
    write: str
    read: str
    topic_write: str
    topic_read: str


def _routing_key_pattern(topic: str) -> str:
    return re.escape(topic.replace("/", "."))


def camera_grant(camera_id: str) -> CameraGrant:
    """What a camera's broker user may do: publish to amq.topic on its own two topics."""
    if not is_camera_id(camera_id):
        raise ValueError(f"not a camera id: {camera_id!r}")
    own_topics = "|".join(
        _routing_key_pattern(topic) for topic in (detections_new_topic(camera_id), camera_status_topic(camera_id))
    )
    return CameraGrant(
        configure=NOTHING,
        write=f"^{re.escape(MQTT_EXCHANGE)}$",
        read=NOTHING,
        topic_write=f"^({own_topics})$",
        topic_read=NOTHING,
    )


def _topics(*topics: str) -> str:
    return "^(" + "|".join(_routing_key_pattern(topic).replace(r"\+", "[^.]+") for topic in topics) + ")$"


# What each backend role may publish (write) and subscribe to (read) on amq.topic, i.e. over
# MQTT. Their AMQP rights stay wide: Celery declares its own event and reply queues.
BACKEND_TOPIC_GRANTS: dict[str, tuple[str, str]] = {
    "main": (
        NOTHING,
        _topics("detections/new/+", "detections/completed", "vehicles/fcm_token_retired", "cameras/+/status"),
    ),
    "ocr": (_topics("detections/completed"), NOTHING),
    "alert": (_topics("vehicles/fcm_token_retired"), NOTHING),
    "maintenance": (NOTHING, NOTHING),
}


def new_password() -> str:
    return secrets.token_urlsafe(24)


class BrokerAdmin:
    def __init__(self, url: str, user: str, password: str, *, vhost: str, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.vhost = vhost
        self._session = requests.Session()
        self._session.auth = (user, password)
        self._timeout = timeout_s

    def _call(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        try:
            response = self._session.request(method, f"{self.url}/api/{path}", json=body, timeout=self._timeout)
        except requests.RequestException as error:
            raise BrokerAdminError(f"RabbitMQ management API at {self.url} unreachable: {error}") from error
        if response.status_code >= 400 and not (method == "DELETE" and response.status_code == 404):
            raise BrokerAdminError(f"{method} /api/{path}: {response.status_code} {response.text[:300]}")
        return response

    def _vhost(self) -> str:
        return quote(self.vhost, safe="")

    def put_user(self, name: str, password: str, *, tags: str = "") -> None:
        self._call("PUT", f"users/{quote(name, safe='')}", {"password": password, "tags": tags})

    def delete_user(self, name: str) -> None:
        self._call("DELETE", f"users/{quote(name, safe='')}")

    def user_exists(self, name: str) -> bool:
        try:
            response = self._session.get(f"{self.url}/api/users/{quote(name, safe='')}", timeout=self._timeout)
        except requests.RequestException as error:
            raise BrokerAdminError(f"RabbitMQ management API at {self.url} unreachable: {error}") from error
        return response.status_code == 200

    def set_permissions(self, user: str, *, configure: str, write: str, read: str) -> None:
        body = {"configure": configure, "write": write, "read": read}
        self._call("PUT", f"permissions/{self._vhost()}/{quote(user, safe='')}", body)

    def set_topic_permissions(self, user: str, *, exchange: str, write: str, read: str) -> None:
        body = {"exchange": exchange, "write": write, "read": read}
        self._call("PUT", f"topic-permissions/{self._vhost()}/{quote(user, safe='')}", body)

    def close_connections_of(self, user: str) -> int:
        """Drop the user's open connections (a retired camera is cut off at once)."""
        connections = self._call("GET", "connections").json()
        closed = 0
        for connection in connections:
            if connection.get("user") == user:
                self._call("DELETE", f"connections/{quote(connection['name'], safe='')}")
                closed += 1
        return closed

    def provision_camera(self, camera_id: str, username: str, password: str) -> CameraGrant:
        grant = camera_grant(camera_id)
        self.put_user(username, password)
        self.set_permissions(username, configure=grant.configure, write=grant.write, read=grant.read)
        self.set_topic_permissions(username, exchange=MQTT_EXCHANGE, write=grant.topic_write, read=grant.topic_read)
        return grant

    def provision_backend_role(self, role: str, username: str, password: str) -> None:
        """A backend role's own user: its queues, and only its own topics on amq.topic."""
        write, read = BACKEND_TOPIC_GRANTS[role]
        self.put_user(username, password)
        self.set_permissions(username, configure=".*", write=".*", read=".*")
        self.set_topic_permissions(username, exchange=MQTT_EXCHANGE, write=write, read=read)

    def retire_camera(self, username: str) -> None:
        self.delete_user(username)
        self.close_connections_of(username)


def main(argv: list[str] | None = None) -> int:
    """`python -m backend.messaging.broker_admin URL ADMIN PASSWORD VHOST ROLE=USER:PASSWORD...`:
    create the backend roles' broker users (used by scripts/lib/common.sh)."""
    import sys

    url, admin_user, admin_password, vhost, *roles = argv if argv is not None else sys.argv[1:]
    admin = BrokerAdmin(url, admin_user, admin_password, vhost=vhost)
    for spec in roles:
        role, credentials = spec.split("=", 1)
        username, password = credentials.split(":", 1)
        admin.provision_backend_role(role, username, password)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
