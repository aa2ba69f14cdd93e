from django.db import migrations


def create_roles(apps, schema_editor):
    from memo_registry.roles import sync_roles

    sync_roles(apps, missing_ok=True)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["查阅", "编辑", "管理员"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("audit", "0001_initial"),
        ("memos", "0002_historicalmemorandum_import_batch_and_more"),
        ("measures", "0003_feedback"),
        ("subjects", "0003_subject_name_trigram_index"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
