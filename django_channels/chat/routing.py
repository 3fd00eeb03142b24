from django.urls import re_path

from chat import consumers

# Room names become Channels group names, which allow only ASCII letters, digits,
# hyphens, underscores and periods; the same pattern guards the HTTP room page.
ROOM_NAME = r"(?P<room_name>[A-Za-z0-9_-]{1,50})"

websocket_urlpatterns = [
    re_path(rf"^ws/chat/{ROOM_NAME}/$", consumers.ChatConsumer.as_asgi()),
    # Anything else is refused cleanly instead of raising "No route found" in the log.
    re_path(r"", consumers.NoSuchSocket.as_asgi()),
]
