"""Admin CSV upload: a dry run first, nothing written until confirmed, then the counts."""

from django.core.files.uploadedfile import SimpleUploadedFile

import pytest

from portal.stats.models import ImportRun, Observation
from tests.factories import UserFactory
from tests.portal.stats.conftest import make_dataset

CSV = b"period,country,items_removed,removed_within_3_days\n2014,,100,91\n2014,DE,10,9\n"


@pytest.fixture
def editor(client, db):
    user = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(user)
    return user


def upload(client, dataset, content=CSV):
    return client.post("/admin/stats/import/", {"dataset": dataset.pk,
                                                "file": SimpleUploadedFile("figures.csv", content, "text/csv")})


def test_upload_shows_a_dry_run_then_imports_on_confirm(client, editor, django_capture_on_commit_callbacks):
    ds = make_dataset("admin-upload")
    response = upload(client, ds)
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/admin/stats/import/{run.pk}/")
    page = client.get(response["Location"]).content.decode()
    assert "2 would be created, 0 would be updated, 0 unchanged" in page
    assert not Observation.objects.exists()
    assert run.uploaded_by == editor

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(f"/admin/stats/import/{run.pk}/confirm/")
    assert len(callbacks) == 1  # the import task is queued once the status change is committed
    run.refresh_from_db()
    assert run.status == ImportRun.DONE and run.created == 2
    assert Observation.objects.filter(dataset=ds).count() == 2
    assert "2 created, 0 updated, 0 unchanged" in client.get(f"/admin/stats/import/{run.pk}/").content.decode()

    # Confirming again queues nothing; uploading the same file again shows it would change nothing.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(f"/admin/stats/import/{run.pk}/confirm/")
    assert callbacks == []
    assert Observation.objects.count() == 2
    again = client.get(upload(client, ds)["Location"]).content.decode()
    assert "0 would be created, 0 would be updated, 2 unchanged" in again


def test_upload_with_problems_lists_them_and_cannot_be_confirmed(client, editor):
    ds = make_dataset("admin-bad")
    response = upload(client, ds, b"period,country,items_removed\n2014,ZZ,5\n")
    page = client.get(response["Location"]).content.decode()
    assert "Row 2, column &quot;country&quot;: unknown country code &quot;ZZ&quot;" in page
    assert "Import these figures" not in page
    run = ImportRun.objects.get()
    client.post(f"/admin/stats/import/{run.pk}/confirm/")
    assert not Observation.objects.exists()


def test_upload_form_needs_permission(client, db):
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/admin/stats/import/").status_code in (302, 403)


def test_admin_screens_render_for_editors(client, editor, home, dataset):
    assert "Check file (dry run)" in client.get("/admin/stats/import/").content.decode()
    assert client.get("/admin/snippets/stats/dataset/").status_code == 200
    assert client.get("/admin/snippets/stats/measure/").status_code == 200
    response = client.get(f"/admin/pages/add/stats/statisticspage/{home.pk}/")
    assert response.status_code == 200
    assert "Time series chart" in response.content.decode()


def test_import_task_runs_a_confirmed_upload_once(db):
    from portal.stats.tasks import run_import

    ds = make_dataset("task")
    run = ImportRun.objects.create(dataset=ds, filename="f.csv", content=CSV.decode(), status=ImportRun.RUNNING)
    assert run_import(run.pk) == ImportRun.DONE
    assert Observation.objects.filter(dataset=ds).count() == 2
    # A redelivered message finds the run done and imports nothing twice.
    assert run_import(run.pk) == "skipped"
    pending = ImportRun.objects.create(dataset=ds, filename="g.csv", content=CSV.decode())
    assert run_import(pending.pk) == "skipped"  # not confirmed yet
