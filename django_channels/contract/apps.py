import atexit

from django.apps import AppConfig


class ContractConfig(AppConfig):
    name = "contract"
    verbose_name = "Common HTTP contract"

    def ready(self):
        from chatsite.db import close_database_pools

        # An open psycopg pool left to the garbage collector waits 5 s per worker thread
        # at exit; closing it first lets management commands (the release phase) exit
        # at once.
        atexit.register(close_database_pools)
