from django.apps import AppConfig


class LoadtestingConfig(AppConfig):
    name = "loadtesting"
