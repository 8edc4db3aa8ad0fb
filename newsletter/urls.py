"""Public newsletter URLs (mounted at /newsletter/): subscribe, confirm, preferences, one-click unsubscribe."""

from django.urls import include, path

from newsletter import provider_webhooks, views
from newsletter.mailchimp import views as mailchimp_views

app_name = "newsletter"

urlpatterns = [
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/member/", views.subscribe_member, name="subscribe_member"),
    path("confirm/resend/", views.resend, name="resend"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("preferences/<str:token>/", views.preferences, name="preferences"),
    path("preferences/<str:token>/unsubscribe/", views.preferences_unsubscribe, name="preferences_unsubscribe"),
    path("preferences/<str:token>/resubscribe/", views.preferences_resubscribe, name="preferences_resubscribe"),
    path("preferences/<str:token>/export/", views.preferences_export, name="preferences_export"),
    path("preferences/<str:token>/erase/", views.preferences_erase, name="preferences_erase"),
    path("data/export/<str:token>/", views.data_export, name="data_export"),
    path("data/erase/<str:token>/", views.data_erase, name="data_erase"),
    path("clicks/<str:token>/", views.click_history, name="click_history"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("unsubscribe/<str:token>/preferences-link/", views.unsubscribe_preferences_link,
         name="unsubscribe_preferences_link"),
    # Providers' tracking webhooks (django-anymail): /newsletter/webhooks/<provider>/tracking/
    path("webhooks/", include((provider_webhooks.tracking_urlpatterns(), "anymail"))),
    path("l/<str:token>/", views.click, name="click"),
    path("l/<str:token>/<str:stamp>/", views.click, name="click"),
    path("webhooks/mailchimp/<str:secret>/", mailchimp_views.mailchimp_webhook, name="mailchimp_webhook"),
]
