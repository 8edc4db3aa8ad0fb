"""Members' area URLs for contributions (under /members/contributions/)."""

from django.urls import path

from . import views

app_name = "contributions"

urlpatterns = [
    path("", views.index, name="index"),
    path("submitters/", views.submitters, name="submitters"),
    path("submitters/change/", views.change_submitter, name="change_submitter"),
    path("practice/", views.practice_index, name="practice"),
    path("practice/new/", views.practice_new, name="practice_new"),
    path("<int:period_id>/", views.period_form, name="period"),
    path("<int:period_id>/template.csv", views.template_csv, name="template"),
    path("<int:period_id>/upload/", views.upload, name="upload"),
]
