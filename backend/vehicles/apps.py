from django.apps import AppConfig


class VehiclesConfig(AppConfig):
    name = "backend.vehicles"
    label = "vehicles"
