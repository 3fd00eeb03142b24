import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger(__name__)


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self):
        if settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("InMemoryChannelLayer"):
            logger.warning(
                "REDIS_URL is not set: the in-memory channel layer reaches this process only, "
                "so chat messages stop at process and dyno boundaries"
            )
