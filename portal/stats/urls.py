"""URLs of the stats app (mounted at statistics-data/): CSV downloads."""

from django.urls import path

from portal.stats import views

app_name = "stats"

urlpatterns = [
    path("datasets/<slug:slug>.csv", views.dataset_csv, name="dataset_csv"),
    path("charts/<int:page_id>/<str:block_id>.csv", views.chart_csv, name="chart_csv"),
]
