from django.db import models
from django.utils.translation import gettext_lazy as _


class MaintenanceRun(models.Model):
    """What one run of a periodic job did: the sweeper's and retention's audit trail."""

    class Job(models.TextChoices):
        SWEEP = "sweep", _("sweep")
        RETENTION = "retention", _("retention")

    job = models.CharField(verbose_name=_("job"), max_length=20, choices=Job.choices)
    started_at = models.DateTimeField(verbose_name=_("started at"))
    finished_at = models.DateTimeField(verbose_name=_("finished at"))
    # Counts by action, e.g. {"ocr_redispatched": 2, "alerts_settled": 40}.
    summary = models.JSONField(verbose_name=_("summary"), default=dict)
    # Ids touched per action, capped, so an operator can follow up on a run.
    details = models.JSONField(verbose_name=_("details"), default=dict)

    class Meta:
        verbose_name = _("maintenance run")
        verbose_name_plural = _("maintenance runs")
        db_table = "maintenance_runs"
        indexes = [models.Index(fields=["job", "started_at"], name="idx_job_started")]

    def __str__(self) -> str:
        return f"{self.job} run at {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def did_something(self) -> bool:
        return any(self.summary.values())
