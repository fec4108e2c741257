from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    name = "backend.maintenance"
    label = "maintenance"
    verbose_name = "Maintenance (sweeper, retention)"
