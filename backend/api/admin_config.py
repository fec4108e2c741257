from django.contrib.admin.apps import AdminConfig


class SpeedCamAdminConfig(AdminConfig):
    """django.contrib.admin, with the site that adds the dead-letter page."""

    default_site = "backend.api.admin_site.SpeedCamAdminSite"
