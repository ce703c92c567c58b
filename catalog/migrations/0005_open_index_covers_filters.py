"""On PostgreSQL the open catalog's index carries the columns the list filters and counts
on, so that the open branch of a scoped, filtered page, and the public's facet counts, are
index-only walks (no table read per row)."""

from django.db import migrations

CONDITION = (
    "open_attribute = 'open' AND sharing_type = 'unconditional' AND status = 'registered'"
)
COVERING = (
    "CREATE INDEX catalog_asset_open_updated_idx ON catalog_dataasset "
    "(updated_at DESC, id DESC) INCLUDE (grade, update_frequency, categories, holder_id, "
    "region_id, region_city_id, region_province_id, sharing_type, status) "
    f"WHERE {CONDITION}"
)
PLAIN = (
    "CREATE INDEX catalog_asset_open_updated_idx ON catalog_dataasset "
    f"(updated_at DESC, id DESC) WHERE {CONDITION}"
)
DROP = "DROP INDEX IF EXISTS catalog_asset_open_updated_idx"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)
        schema_editor.execute(COVERING)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)
        schema_editor.execute(PLAIN)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_categories_required")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
