"""The pooled MySQL/MariaDB backend of the alert worker (ENGINE: backend.config.pooled_mysql)."""
