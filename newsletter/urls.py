"""Public newsletter URLs: subscribe, confirm, preferences, unsubscribe, webhooks."""

urlpatterns: list = []
