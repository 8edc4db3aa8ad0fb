from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = "Newsletter"

    def ready(self):
        from wagtail.signals import page_published

        from newsletter.models import NewsletterIssue
        from newsletter.services.audience import issue_published

        page_published.connect(issue_published, sender=NewsletterIssue, dispatch_uid="newsletter_issue_audience")

        from anymail.signals import tracking

        from newsletter.provider_webhooks import on_tracking_event

        tracking.connect(on_tracking_event, dispatch_uid="newsletter_provider_tracking")
