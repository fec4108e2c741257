from django.db import models


class Camera(models.Model):
    """A provisioned roadside unit: the only source of a detection's place and limit.

    The camera's own payload values (location, limit) are kept only as a cross-check;
    what a citizen is told comes from here.
    """

    class State(models.TextChoices):
        ONLINE = "online"
        OFFLINE = "offline"

    camera_id = models.CharField(max_length=50, unique=True)
    # The camera's own broker user: it may publish on its own topics and read nothing.
    mqtt_username = models.CharField(max_length=100, unique=True)
    location = models.CharField(max_length=255)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    speed_limit = models.FloatField()
    direction_away = models.CharField(max_length=50, blank=True, default="")
    direction_towards = models.CharField(max_length=50, blank=True, default="")
    active = models.BooleanField(default=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_state = models.CharField(max_length=10, choices=State.choices, blank=True, default="")
    # The unit's counters from its last heartbeat (measured, published, unmeasurable...).
    last_counters = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "cameras"
        ordering = ["camera_id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(speed_limit__gt=0), name="cameras_speed_limit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.camera_id} ({self.location})"
