import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger(__name__)


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self):
        backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
        if backend.endswith("InMemoryChannelLayer"):
            logger.warning(
                "REDIS_URL is not set: using the in-memory channel layer, which reaches "
                "this process only; run more than one process or dyno and chat messages "
                "stop at process boundaries"
            )
