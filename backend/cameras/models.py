from django.db import models
from django.utils.translation import gettext_lazy as _


class Camera(models.Model):
    """A provisioned roadside unit: the only source of a detection's place and limit.

    The camera's own payload values (location, limit) are kept only as a cross-check;
    what a citizen is told comes from here.
    """

    class State(models.TextChoices):
        ONLINE = "online", _("online")
        OFFLINE = "offline", _("offline")

    camera_id = models.CharField(verbose_name=_("camera ID"), max_length=50, unique=True)
    # The camera's own broker user: it may publish on its own topics and read nothing.
    mqtt_username = models.CharField(verbose_name=_("MQTT username"), max_length=100, unique=True)
    location = models.CharField(verbose_name=_("location"), max_length=255)
    latitude = models.DecimalField(verbose_name=_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(verbose_name=_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    speed_limit = models.FloatField(verbose_name=_("speed limit"))
    direction_away = models.CharField(verbose_name=_("direction away"), max_length=50, blank=True, default="")
    direction_towards = models.CharField(verbose_name=_("direction towards"), max_length=50, blank=True, default="")
    active = models.BooleanField(verbose_name=_("active"), default=True)
    last_seen_at = models.DateTimeField(verbose_name=_("last seen at"), null=True, blank=True)
    last_state = models.CharField(
        verbose_name=_("last state"), max_length=10, choices=State.choices, blank=True, default=""
    )
    # The unit's counters from its last heartbeat (measured, published, unmeasurable...).
    last_counters = models.JSONField(verbose_name=_("last counters"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("camera")
        verbose_name_plural = _("cameras")
        db_table = "cameras"
        ordering = ["camera_id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(speed_limit__gt=0), name="cameras_speed_limit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.camera_id} ({self.location})"
