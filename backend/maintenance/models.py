from django.db import models


class MaintenanceRun(models.Model):
    """What one run of a periodic job did: the sweeper's and retention's audit trail."""

    class Job(models.TextChoices):
        SWEEP = "sweep"
        RETENTION = "retention"

    job = models.CharField(max_length=20, choices=Job.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    # Counts by action, e.g. {"ocr_redispatched": 2, "alerts_settled": 40}.
    summary = models.JSONField(default=dict)
    # Ids touched per action, capped, so an operator can follow up on a run.
    details = models.JSONField(default=dict)

    class Meta:
        db_table = "maintenance_runs"
        indexes = [models.Index(fields=["job", "started_at"], name="idx_job_started")]

    def __str__(self) -> str:
        return f"{self.job} run at {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def did_something(self) -> bool:
        return any(self.summary.values())
