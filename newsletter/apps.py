from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = "Newsletter"

    def ready(self):
        from django.db.models.signals import pre_delete

        from wagtail.signals import page_published

        from anymail.signals import tracking

        from newsletter.admin_forms import NewsletterIssueForm
        from newsletter.models import NewsletterIssue, Subscriber
        from newsletter.provider_webhooks import on_tracking_event
        from newsletter.receivers import forget_in_mailchimp
        from newsletter.services.audience import issue_published
        from newsletter.services.rendering import web_issue_context

        page_published.connect(issue_published, sender=NewsletterIssue, dispatch_uid="newsletter_issue_audience")
        tracking.connect(on_tracking_event, dispatch_uid="newsletter_provider_tracking")
        pre_delete.connect(forget_in_mailchimp, sender=Subscriber, dispatch_uid="newsletter_forget_in_mailchimp")
        NewsletterIssue.base_form_class = NewsletterIssueForm
        NewsletterIssue.web_context = staticmethod(web_issue_context)
