from django.db import migrations


def sync(apps, schema_editor):
    from memo_registry.roles import sync_roles

    # 管理员 reads the look-up records (查询记录).
    sync_roles(apps, missing_ok=True)


class Migration(migrations.Migration):
    dependencies = [
        ("memo_registry", "0001_roles"),
        ("audit", "0002_access_record"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
