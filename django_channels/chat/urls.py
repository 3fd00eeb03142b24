from django.urls import re_path

from chat import views
from chat.routing import ROOM_NAME

app_name = "chat"

urlpatterns = [
    re_path(r"^chat/$", views.lobby, name="lobby"),
    re_path(rf"^chat/{ROOM_NAME}/$", views.room, name="room"),
]
