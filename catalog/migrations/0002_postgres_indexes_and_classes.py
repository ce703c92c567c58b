"""PostgreSQL-only GIN indexes (search bigrams, categories) and the catalog's classification.

The GIN indexes are created only on PostgreSQL; SQLite answers the same lookups by scanning.
"""

from django.db import migrations

GIN_INDEXES = {
    "catalog_asset_search_gin": (
        "CREATE INDEX IF NOT EXISTS catalog_asset_search_gin ON catalog_dataasset "
        "USING gin (to_tsvector('simple'::regconfig, search_document))"
    ),
    "catalog_asset_categories_gin": (
        "CREATE INDEX IF NOT EXISTS catalog_asset_categories_gin ON catalog_dataasset "
        "USING gin (categories jsonb_path_ops)"
    ),
}

# The classification tree (类 / 项), a product choice kept as data.
CLASSES = [
    ("01", "医疗服务", "Medical services", None),
    ("0101", "门急诊诊疗", "Outpatient and emergency care", "01"),
    ("0102", "住院诊疗", "Inpatient care", "01"),
    ("0103", "检验检查", "Laboratory and examinations", "01"),
    ("0104", "医学影像", "Medical imaging", "01"),
    ("0105", "药事管理", "Pharmacy", "01"),
    ("02", "公共卫生", "Public health", None),
    ("0201", "传染病监测", "Infectious disease surveillance", "02"),
    ("0202", "慢性病管理", "Chronic disease management", "02"),
    ("0203", "妇幼保健", "Maternal and child health", "02"),
    ("0204", "免疫规划", "Immunisation", "02"),
    ("0205", "出生与死亡登记", "Births and deaths", "02"),
    ("0206", "环境与职业健康", "Environmental and occupational health", "02"),
    ("03", "健康档案", "Health records", None),
    ("0301", "居民电子健康档案", "Resident electronic health records", "03"),
    ("0302", "家庭医生签约", "Family doctor contracts", "03"),
    ("04", "医疗保障", "Medical security", None),
    ("0401", "医保结算", "Insurance settlement", "04"),
    ("0402", "医疗费用", "Medical costs", "04"),
    ("05", "卫生资源与管理", "Health resources and management", None),
    ("0501", "机构与人员", "Institutions and personnel", "05"),
    ("0502", "床位与设备", "Beds and equipment", "05"),
    ("0503", "运营管理", "Operations management", "05"),
    ("06", "科学研究", "Research", None),
    ("0601", "临床研究", "Clinical research", "06"),
    ("0602", "生物样本与基因", "Biobanks and genomics", "06"),
]


def create_gin_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in GIN_INDEXES.values():
            schema_editor.execute(sql)


def drop_gin_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in GIN_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def seed_classes(apps, schema_editor):
    CatalogClass = apps.get_model("catalog", "CatalogClass")
    by_code = {}
    for code, name, name_en, parent in CLASSES:
        by_code[code] = CatalogClass.objects.create(
            code=code, name=name, name_en=name_en, parent=by_code.get(parent)
        )


def unseed_classes(apps, schema_editor):
    apps.get_model("catalog", "CatalogClass").objects.filter(parent__isnull=False).delete()
    apps.get_model("catalog", "CatalogClass").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [
        migrations.RunPython(create_gin_indexes, drop_gin_indexes),
        migrations.RunPython(seed_classes, unseed_classes),
    ]
