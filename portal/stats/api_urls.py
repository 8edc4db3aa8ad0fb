"""The statistics JSON API, mounted at api/stats/."""

from django.urls import path

from portal.stats import api

app_name = "stats_api"

urlpatterns = [
    path("datasets/", api.dataset_list, name="datasets"),
    path("datasets/<str:slug>/observations/", api.observation_list, name="observations"),
    path("openapi.json", api.openapi_json, name="openapi"),
]
