"""URLs of the members app: dashboard, joining, and the account pages (login, logout, passwords)."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import two_factor, views

app_name = "members"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("preferences/", views.save_preferences, name="preferences"),
    path("request/", views.request_membership, name="request"),
    path("request/thanks/", views.request_thanks, name="request_thanks"),
    path("join/<str:token>/", views.join, name="join"),
    # Not redirect_authenticated_user: a member sent here by a page of another sector would loop back and forth.
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("2fa/setup/", two_factor.setup, {"member_site": True}, name="two_factor_setup"),
    path("2fa/verify/", two_factor.verify, {"member_site": True}, name="two_factor_verify"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("members:password_change_done")),
        name="password_change",
    ),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("members:password_reset_complete")),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
