"""Data: sector groups, editorial roles with their permissions, the members' document collection, and the
moderation workflow.

- Groups "Members", "Hotlines", "NGOs", "Industry", "Law enforcement", "Government", and the SectorGroup
  rows mapping each sector slug to its group.
- "Editors" create and edit pages (they can only submit for moderation) and manage images and documents;
  "Moderators" can also publish, lock and unlock. Both can access the admin and edit topics.
- "Members' documents": a collection under the root restricted to logged-in users (served only through
  Wagtail's document view).
- Workflow "Moderator approval" with one GroupApprovalTask for Moderators, on the root page so every
  content section (and any future home page) goes through it. It replaces Wagtail's default workflow there.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SECTOR_GROUPS = {
    "hotline": "Hotlines",
    "ngo": "NGOs",
    "industry": "Industry",
    "law-enforcement": "Law enforcement",
    "government": "Government",
}
COLLECTION_NAME = "Members' documents"
WORKFLOW_NAME = "Moderator approval"

EDITOR_PAGE_PERMS = ["add_page", "change_page"]
MODERATOR_PAGE_PERMS = [*EDITOR_PAGE_PERMS, "publish_page", "lock_page", "unlock_page"]
EDITOR_COLLECTION_PERMS = [
    ("wagtailimages", "add_image"), ("wagtailimages", "change_image"), ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"), ("wagtaildocs", "change_document"), ("wagtaildocs", "choose_document"),
]
MODERATOR_COLLECTION_PERMS = [
    *EDITOR_COLLECTION_PERMS, ("wagtailimages", "delete_image"), ("wagtaildocs", "delete_document"),
]
EDITOR_MODEL_PERMS = [
    ("wagtailadmin", "access_admin"), ("core", "add_topic"), ("core", "change_topic"),
    ("wagtailimages", "add_image"), ("wagtailimages", "change_image"), ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"), ("wagtaildocs", "change_document"), ("wagtaildocs", "choose_document"),
]
MODERATOR_MODEL_PERMS = [
    *EDITOR_MODEL_PERMS, ("core", "delete_topic"), ("core", "add_sector"), ("core", "change_sector"),
    ("wagtailimages", "delete_image"), ("wagtaildocs", "delete_document"),
]


def _permission(apps, app_label, codename):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def forwards(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure the ones we grant exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    SectorGroup = apps.get_model("members", "SectorGroup")
    Page = apps.get_model("wagtailcore", "Page")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    Collection = apps.get_model("wagtailcore", "Collection")
    CollectionViewRestriction = apps.get_model("wagtailcore", "CollectionViewRestriction")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore", "WorkflowPage")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")

    # Sector groups
    Group.objects.get_or_create(name="Members")
    for slug, name in SECTOR_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        SectorGroup.objects.update_or_create(sector_slug=slug, defaults={"group": group})

    # Editorial roles
    root_page = Page.objects.filter(depth=1).order_by("path").first()
    root_collection = Collection.objects.filter(depth=1).order_by("path").first()
    roles = {
        "Editors": (EDITOR_PAGE_PERMS, EDITOR_COLLECTION_PERMS, EDITOR_MODEL_PERMS),
        "Moderators": (MODERATOR_PAGE_PERMS, MODERATOR_COLLECTION_PERMS, MODERATOR_MODEL_PERMS),
    }
    for name, (page_perms, collection_perms, model_perms) in roles.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in model_perms:
            group.permissions.add(_permission(apps, app_label, codename))
        if root_page is not None:
            for codename in page_perms:
                GroupPagePermission.objects.get_or_create(
                    group=group, page=root_page, permission=_permission(apps, "wagtailcore", codename)
                )
        if root_collection is not None:
            for app_label, codename in collection_perms:
                GroupCollectionPermission.objects.get_or_create(
                    group=group, collection=root_collection, permission=_permission(apps, app_label, codename)
                )
    # Editors may not publish: anything they submit waits for a moderator.
    editors = Group.objects.get(name="Editors")
    GroupPagePermission.objects.filter(
        group=editors, permission__codename__in=["publish_page", "bypass_workflow_page"]
    ).delete()

    # The restricted collection for members' documents (treebeard paths: root 0001, children 0001XXXX).
    if root_collection is not None and not Collection.objects.filter(name=COLLECTION_NAME).exists():
        last_child = Collection.objects.filter(depth=2, path__startswith=root_collection.path).order_by("-path").first()
        next_number = int(last_child.path[-4:], 36) + 1 if last_child else 1
        path = root_collection.path + _base36(next_number).rjust(4, "0")
        Collection.objects.create(name=COLLECTION_NAME, path=path, depth=2, numchild=0)
        root_collection.numchild += 1
        root_collection.save(update_fields=["numchild"])
    collection = Collection.objects.get(name=COLLECTION_NAME)
    if not CollectionViewRestriction.objects.filter(collection=collection).exists():
        CollectionViewRestriction.objects.create(collection=collection, restriction_type="login", password="")

    # Moderation workflow on the root page
    if root_page is not None:
        moderators = Group.objects.get(name="Moderators")
        task_type, _ = ContentType.objects.get_or_create(app_label="wagtailcore", model="groupapprovaltask")
        task = GroupApprovalTask.objects.filter(name=WORKFLOW_NAME).first()
        if task is None:
            task = GroupApprovalTask.objects.create(name=WORKFLOW_NAME, content_type=task_type, active=True)
        task.groups.set([moderators])
        workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW_NAME, defaults={"active": True})
        WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
        WorkflowPage.objects.update_or_create(page=root_page, defaults={"workflow": workflow})
        # Wagtail's own default workflow is left without pages; retire it so editors see one workflow.
        Workflow.objects.exclude(pk=workflow.pk).filter(workflow_pages__isnull=True).update(active=False)


def _base36(number: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while number:
        number, remainder = divmod(number, 36)
        out = digits[remainder] + out
    return out or "0"


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0001_initial"),
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailadmin", "0006_formstate"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtailimages", "0027_image_description"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
