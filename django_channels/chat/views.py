from django.db import DatabaseError
from django.db.models import Count, Max
from django.shortcuts import render
from django.views.decorators.http import require_safe

from chat.consumers import MESSAGE_MAX_LENGTH
from chat.models import Message

LOBBY_ROOMS = 20


@require_safe
def lobby(request):
    try:
        rooms = list(
            Message.objects.values("room").annotate(messages=Count("id"), last=Max("created")).order_by("-last")[:LOBBY_ROOMS]
        )
    except DatabaseError:
        return render(request, "chat/lobby.html", {"rooms": [], "unavailable": True}, status=503)
    return render(request, "chat/lobby.html", {"rooms": rooms})


@require_safe
def room(request, room_name):
    return render(request, "chat/room.html", {"room_name": room_name, "max_length": MESSAGE_MAX_LENGTH})
