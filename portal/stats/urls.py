"""URLs of the stats app."""

urlpatterns: list = []
