"""URLs of the members app."""

urlpatterns: list = []
