"""The two tables every app in the monorepo shares, with their exact SQL names."""

from django.db import models


class World(models.Model):
    id = models.IntegerField(primary_key=True)
    randomnumber = models.IntegerField(db_column="randomnumber")

    class Meta:
        db_table = "world"

    def as_json(self):
        return {"id": self.id, "randomNumber": self.randomnumber}


class Fortune(models.Model):
    id = models.IntegerField(primary_key=True)
    message = models.CharField(max_length=2048)

    class Meta:
        db_table = "fortune"
