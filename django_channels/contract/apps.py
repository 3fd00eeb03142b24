from django.apps import AppConfig


class ContractConfig(AppConfig):
    name = "contract"
    verbose_name = "Common HTTP contract"
