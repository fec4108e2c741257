from django.db import models
from django.utils.translation import gettext_lazy as _


class Vehicle(models.Model):
    """A registered vehicle and the owner who receives violation pushes."""

    plate_number = models.CharField(verbose_name=_("plate number"), max_length=20, unique=True)
    owner_name = models.CharField(verbose_name=_("owner name"), max_length=100, blank=True, null=True)
    owner_phone = models.CharField(verbose_name=_("owner phone"), max_length=20, blank=True, null=True)
    fcm_token = models.CharField(verbose_name=_("FCM token"), max_length=255, blank=True, null=True)
    # The owner's API account (auth user in the default database; a plain id, no FK).
    owner_user_id = models.BigIntegerField(verbose_name=_("owner user ID"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        db_table = "vehicles"
        indexes = [models.Index(fields=["fcm_token"], name="idx_fcm_token")]

    def __str__(self) -> str:
        return self.plate_number
