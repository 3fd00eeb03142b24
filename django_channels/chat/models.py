from django.db import models

AUTHOR_MAX_LENGTH = 32


class Message(models.Model):
    room = models.CharField(max_length=50)
    author = models.CharField(max_length=AUTHOR_MAX_LENGTH)
    text = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The history a joining client gets is "the newest N in this room".
        indexes = [models.Index(fields=["room", "-id"], name="chat_message_room_newest")]

    def as_json(self):
        return {
            "id": self.id,
            "room": self.room,
            "author": self.author,
            "text": self.text,
            "created": self.created.isoformat(),
        }
