"""Seed the region table from the GB/T 2260 division files in accounts/data/."""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"


def _rows(name):
    with open(DATA / name, encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def seed_regions(apps, schema_editor):
    Region = apps.get_model("accounts", "Region")
    regions = []
    for row in _rows("provinces.csv"):
        code = row["code"].ljust(6, "0")
        regions.append(Region(code=code, name=row["name"], level="province", parent_id=None,
                              province_id=code, city_id=None))
    for row in _rows("cities.csv"):
        code, province = row["code"].ljust(6, "0"), row["provinceCode"].ljust(6, "0")
        regions.append(Region(code=code, name=row["name"], level="city", parent_id=province,
                              province_id=province, city_id=code))
    for row in _rows("areas.csv"):
        city, province = row["cityCode"].ljust(6, "0"), row["provinceCode"].ljust(6, "0")
        if row["code"] == city:
            continue  # a city without counties (东莞市, 中山市, 儋州市) is listed as its own area
        regions.append(Region(code=row["code"], name=row["name"], level="county",
                              parent_id=city, province_id=province, city_id=city))
    # Provinces first: each row's parent exists before it on databases that check at once.
    Region.objects.using(schema_editor.connection.alias).bulk_create(regions, batch_size=1000)


def unseed_regions(apps, schema_editor):
    apps.get_model("accounts", "Region").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(seed_regions, unseed_regions)]
