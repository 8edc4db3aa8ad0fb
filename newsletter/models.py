"""Newsletter models: subscribers, consent, issues, sends and deliveries (built in the subscription work)."""
