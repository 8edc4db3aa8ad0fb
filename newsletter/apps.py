from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = "Newsletter"

    def ready(self):
        from wagtail.signals import page_published

        from newsletter.models import NewsletterIssue
        from newsletter.services.audience import issue_published

        page_published.connect(issue_published, sender=NewsletterIssue, dispatch_uid="newsletter_issue_audience")
