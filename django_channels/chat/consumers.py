"""The chat socket: join a room's group, replay its history, relay what members say."""

import json
import logging
import os
import socket

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.db import DatabaseError
from redis.exceptions import RedisError

from chat.models import AUTHOR_MAX_LENGTH, Message

logger = logging.getLogger(__name__)

MESSAGE_MAX_LENGTH = 1000
HISTORY_LENGTH = 50  # the newest messages a joining client gets
# What the channel layer raises when Redis is down or unreachable.
LAYER_ERRORS = (RedisError, OSError)
# Every socket of this process, so that a SIGTERM can close them all with a close frame
# (daphne_drain). Host name and pid: unique among dynos (an old and a new web.1 overlap
# during a deploy) and among processes on one host. Channels allows 99 characters.
PROCESS_GROUP = f"process.{os.getpid()}.{socket.gethostname()}"[:99]
# RFC 6455's code for a server going down is 1001, but Daphne closes through Autobahn's
# sendClose, which refuses all but 1000 and 3000-4999 (crossbario/autobahn-python#1642,
# django/daphne#374): 1000, "normal closure", the nearest it sends. tests/test_drain.py
# fails once Autobahn accepts 1001; then send 1001.
SERVER_STOPPING = 1000


class BadFrame(ValueError):
    """A frame the client should fix; its text goes back in an error frame."""


def parse_frame(text_data):
    """Return (author, text) from a client frame, or raise BadFrame saying what is wrong."""
    if text_data is None:
        raise BadFrame("send text frames holding JSON, not binary frames")
    try:
        payload = json.loads(text_data)
    except (ValueError, RecursionError):
        raise BadFrame("frame is not valid JSON") from None
    if not isinstance(payload, dict):
        raise BadFrame('frame must be a JSON object like {"text": "hello"}')
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadFrame('"text" is missing or empty')
    if len(text) > MESSAGE_MAX_LENGTH:
        raise BadFrame(f'"text" is longer than {MESSAGE_MAX_LENGTH} characters')
    author = "" if payload.get("author") is None else payload["author"]
    if not isinstance(author, str) or len(author) > AUTHOR_MAX_LENGTH:
        raise BadFrame(f'"author" must be a string of at most {AUTHOR_MAX_LENGTH} characters')
    for value in (text, author):
        # Postgres text cannot hold NUL, and a lone surrogate (from a JSON "\ud800"
        # escape) cannot be encoded: both are the client's mistake, not a database outage.
        if "\x00" in value:
            raise BadFrame("text must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadFrame("text must be valid Unicode (no lone surrogates)") from None
    return author.strip() or "anonymous", text


@database_sync_to_async
def recent_messages(room):
    newest = Message.objects.filter(room=room).order_by("-id")[:HISTORY_LENGTH]
    return [message.as_json() for message in reversed(newest)]


@database_sync_to_async
def save_message(room, author, text):
    return Message.objects.create(room=room, author=author, text=text).as_json()


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room_name = self.scope["url_route"]["kwargs"]["room_name"]
        self.group_name = f"chat.{self.room_name}"
        try:
            await self.channel_layer.group_add(self.group_name, self.channel_name)
            await self.channel_layer.group_add(PROCESS_GROUP, self.channel_name)
        except LAYER_ERRORS as exc:
            logger.warning("channel layer unavailable, refusing socket: %s", exc)
            await self.close()
            return
        await self.accept()
        try:
            history = await recent_messages(self.room_name)
        except DatabaseError as exc:
            logger.warning("history unavailable: %s", exc)
            await self.send_error("history unavailable: the database is unavailable")
        else:
            await self.send_json({"type": "history", "room": self.room_name, "messages": history})

    async def disconnect(self, code):
        try:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)
            await self.channel_layer.group_discard(PROCESS_GROUP, self.channel_name)
        except (AttributeError, *LAYER_ERRORS):
            pass  # never joined, or Redis is gone: the group entry expires by itself

    async def receive(self, text_data=None, bytes_data=None):
        try:
            author, text = parse_frame(text_data)
        except BadFrame as exc:
            await self.send_error(str(exc))
            return
        try:
            message = await save_message(self.room_name, author, text)
        except DatabaseError as exc:
            logger.warning("message not saved: %s", exc)
            await self.send_error("message not saved: the database is unavailable")
            return
        try:
            await self.channel_layer.group_send(self.group_name, {"type": "chat.message", "message": message})
        except LAYER_ERRORS as exc:
            await self.send_error(f"message saved but not relayed: {exc}")

    async def chat_message(self, event):
        await self.send_json({"type": "message", **event["message"]})

    async def server_going_away(self, event):
        await self.close(code=SERVER_STOPPING)

    async def send_error(self, error):
        await self.send_json({"type": "error", "error": error})

    async def send_json(self, payload):
        await self.send(text_data=json.dumps(payload))


async def close_every_socket():
    """Ask every chat socket of this process to close with a close frame (the page reconnects
    to another dyno), through the channel layer as the chat's own messages go. False if it
    could not be asked: then the sockets are cut when the process exits."""
    try:
        await get_channel_layer().group_send(PROCESS_GROUP, {"type": "server.going_away"})
    except LAYER_ERRORS as exc:
        logger.warning("channel layer unavailable, sockets close without a close frame: %s", exc)
        return False
    return True


class NoSuchSocket(AsyncWebsocketConsumer):
    async def connect(self):
        await self.close()
