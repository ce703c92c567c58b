"""Check that seed_demo's COPY path writes what its ORM path (bulk_create) writes.

Seed two empty, migrated PostgreSQL databases with the same seed and size, one with
``--method orm`` and one with ``--method copy``, then:

    python bench/compare_loaders.py postgres://postgres@127.0.0.1/hdc_demo_orm \\
        postgres://postgres@127.0.0.1/hdc_demo_copy

Every asset, asset history row, data element and element history row is compared column by
column, with database ids replaced by natural keys (asset code, credit code, username,
class code), leaving out the write timestamps and the dates drawn relative to the time of
the run (last data update, coverage end). Exits 1 on the first difference.
"""

from __future__ import annotations

import argparse
import sys

import psycopg

# Ids, write timestamps and the dates drawn relative to the time of the run.
VOLATILE = {"id", "history_id", "created_at", "updated_at", "history_date", "asset_id",
            "last_data_update", "temporal_end"}
QUERIES = {
    "assets": """
        SELECT a.code AS key, row_to_json(a)::jsonb AS row, h.credit_code AS holder,
               c.code AS class, cu.username AS created_by, uu.username AS updated_by,
               ru.username AS responsible_user
        FROM catalog_dataasset a
        JOIN accounts_institution h ON h.id = a.holder_id
        LEFT JOIN catalog_catalogclass c ON c.id = a.catalog_class_id
        LEFT JOIN accounts_user cu ON cu.id = a.created_by_id
        LEFT JOIN accounts_user uu ON uu.id = a.updated_by_id
        LEFT JOIN accounts_user ru ON ru.id = a.responsible_user_id
        ORDER BY a.code""",
    "asset history": """
        SELECT a.code || ' ' || a.history_type AS key, row_to_json(a)::jsonb AS row,
               h.credit_code AS holder, c.code AS class, cu.username AS created_by,
               uu.username AS updated_by, ru.username AS responsible_user,
               hu.username AS history_user
        FROM catalog_historicaldataasset a
        JOIN accounts_institution h ON h.id = a.holder_id
        LEFT JOIN catalog_catalogclass c ON c.id = a.catalog_class_id
        LEFT JOIN accounts_user cu ON cu.id = a.created_by_id
        LEFT JOIN accounts_user uu ON uu.id = a.updated_by_id
        LEFT JOIN accounts_user ru ON ru.id = a.responsible_user_id
        LEFT JOIN accounts_user hu ON hu.id = a.history_user_id
        ORDER BY a.code, a.history_type""",
    "elements": """
        SELECT a.code || ' ' || e.position AS key, row_to_json(e)::jsonb AS row
        FROM catalog_dataelement e JOIN catalog_dataasset a ON a.id = e.asset_id
        ORDER BY a.code, e.position""",
    "element history": """
        SELECT a.code || ' ' || e.position || ' ' || e.history_type AS key,
               row_to_json(e)::jsonb AS row, hu.username AS history_user
        FROM catalog_historicaldataelement e JOIN catalog_dataasset a ON a.id = e.asset_id
        LEFT JOIN accounts_user hu ON hu.id = e.history_user_id
        ORDER BY a.code, e.position, e.history_type""",
    "institutions": """
        SELECT i.credit_code AS key, row_to_json(i)::jsonb AS row, p.credit_code AS parent
        FROM accounts_institution i LEFT JOIN accounts_institution p ON p.id = i.parent_id
        ORDER BY i.credit_code""",
}
ID_COLUMNS = {"holder_id", "catalog_class_id", "created_by_id", "updated_by_id",
              "responsible_user_id", "history_user_id", "parent_id"}


def rows(url: str, query: str) -> list[tuple[str, dict]]:
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(query)
        names = [column.name for column in cursor.description]
        result = []
        for record in cursor:
            values = dict(zip(names, record, strict=True))
            row = {k: v for k, v in values.pop("row").items()
                   if k not in VOLATILE and k not in ID_COLUMNS}
            key = values.pop("key")
            row.update(values)
            result.append((key, row))
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("orm_url")
    parser.add_argument("copy_url")
    args = parser.parse_args()
    for label, query in QUERIES.items():
        left, right = rows(args.orm_url, query), rows(args.copy_url, query)
        if len(left) != len(right):
            print(f"{label}: {len(left)} rows by the ORM, {len(right)} by COPY")
            return 1
        for (key_a, a), (key_b, b) in zip(left, right, strict=True):
            if key_a != key_b or a != b:
                diff = {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys()
                        if a.get(k) != b.get(k)}
                print(f"{label}: {key_a} / {key_b} differ: {diff}")
                return 1
        print(f"{label}: {len(left):,} rows identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
