from dataclasses import dataclass

from tortoise import fields
from tortoise.models import Model


class AcceptancePoint(Model):
    """A 受理点: where residents apply in person. Coordinates are GCJ-02, as WeChat sends them."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    district = fields.CharField(max_length=20, db_index=True)
    address = fields.CharField(max_length=200)
    lat = fields.FloatField()
    lng = fields.FloatField()
    hours = fields.CharField(max_length=100)
    phone = fields.CharField(max_length=40)

    class Meta:
        table = "acceptance_point"


@dataclass(frozen=True, slots=True)
class PointDetails:
    """An acceptance point's details as a value: what the import reads and the lookup ranks."""

    name: str
    district: str
    address: str
    lat: float
    lng: float
    hours: str
    phone: str
