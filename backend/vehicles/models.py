from django.db import models


class Vehicle(models.Model):
    """A registered vehicle and the owner who receives violation pushes."""

    plate_number = models.CharField(max_length=20, unique=True)
    owner_name = models.CharField(max_length=100, blank=True, null=True)
    owner_phone = models.CharField(max_length=20, blank=True, null=True)
    fcm_token = models.CharField(max_length=255, blank=True, null=True)
    # The owner's API account (auth user in the default database; a plain id, no FK).
    owner_user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "vehicles"
        indexes = [models.Index(fields=["fcm_token"], name="idx_fcm_token")]

    def __str__(self) -> str:
        return self.plate_number
