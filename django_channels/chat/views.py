from chatsite.db import database_route, run_db
from chatsite.http_errors import safe_methods_only
from django.conf import settings
from django.db.models import Count, Max
from django.shortcuts import render

from chat.models import Message

LOBBY_ROOMS = 20


def busiest_rooms():
    return list(
        Message.objects.values("room")
        .annotate(messages=Count("id"), last=Max("created"))
        .order_by("-last")[:LOBBY_ROOMS]
    )


@safe_methods_only
@database_route
async def lobby(request):
    rooms = await run_db(busiest_rooms)
    return render(request, "chat/lobby.html", {"rooms": rooms})


@safe_methods_only
async def room(request, room_name):
    return render(
        request,
        "chat/room.html",
        {"room_name": room_name, "max_length": settings.CHAT_MESSAGE_MAX_LENGTH},
    )
