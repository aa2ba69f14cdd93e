"""The bureau's three roles, as Django groups.

查阅 reads memoranda and subjects; 编辑 also edits memoranda, measures,
divisions, departments and target subjects and imports lists; 管理员 also
manages users, lists, subjects and listings, and sees people's full identity
numbers.  Feedback follows the division, not the role: a division's members
record it (measures.models.may_act_for), 管理员 for any division.  A data
migration creates the groups; ``sync_roles`` can be run again
(``manage.py sync_roles``) after a change here.
"""

VIEW = [
    "memos.view_responsibilitylist",
    "memos.view_memorandum",
    "memos.view_department",
    "measures.view_measure",
    "measures.view_legalbasis",
    "measures.view_division",
    "measures.view_feedback",
    "subjects.view_targetsubject",
    "subjects.view_subject",
    "subjects.view_listing",
    # A listing's objections and credit repairs, shown on the subject page.
    "subjects.view_objection",
    "subjects.view_repair",
    # Embedded checks by other systems, shown on the subject page.
    "clients.view_check",
]
EDIT = (
    VIEW
    + [
        f"{app}.{action}_{model}"
        for app, model in [
            ("memos", "memorandum"),
            ("memos", "department"),
            ("measures", "measure"),
            # A measure's legal basis (实施依据), edited with the memo.
            ("measures", "legalbasis"),
            ("measures", "division"),
            ("subjects", "targetsubject"),
        ]
        for action in ("add", "change", "delete")
    ]
    + [
        "measures.add_feedback",
        "audit.view_importbatch",
        # The listing pages: upload listings, lift listings in bulk (信用修复).
        "audit.upload_listings",
    ]
)
ADMIN = (
    EDIT
    + [
        f"{app}.{action}_{model}"
        for app, model in [
            ("memos", "responsibilitylist"),
            ("subjects", "subject"),
            ("subjects", "listing"),
            # A listing's life (issue 15): objections, repairs, publication periods.
            ("subjects", "objection"),
            ("subjects", "repair"),
            ("subjects", "publicationperiod"),
            ("measures", "feedback"),
            ("auth", "user"),
            ("auth", "group"),
            # Client systems' API keys (memo_registry/clients/admin.py).
            ("clients", "clientkey"),
        ]
        for action in ("add", "change", "delete", "view")
    ]
    + ["subjects.view_full_identity", "audit.view_accessrecord"]
    # Feedback for any division (others: members of the division only).
    + ["measures.record_any_division"]
)

ROLES = {"查阅": VIEW, "编辑": EDIT, "管理员": ADMIN}


def sync_roles(apps=None, *, missing_ok: bool = False) -> None:
    """Create the groups and give each exactly its permissions.

    ``missing_ok``: an early data migration runs this before later
    migrations have made some models (and so their permissions); it skips
    those, and a later migration runs it again."""
    if apps is None:
        from django.apps import apps
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # A migration's historical app configs have no models_module, and
        # create_permissions skips such apps; lend them one for the call.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = models_module
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=name)
        permissions = []
        for dotted in dict.fromkeys(codenames):
            app_label, codename = dotted.split(".")
            found = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if found is None:
                if missing_ok:
                    continue
                raise LookupError(f"permission {dotted} does not exist")
            permissions.append(found)
        group.permissions.set(permissions)
