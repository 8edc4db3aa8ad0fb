from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "portal.pages"
    label = "pages"
    verbose_name = "Portal pages"

    def ready(self):
        from portal.core.generation import watch
        from portal.pages.models import ArticleRelatedPage, HomeFeaturedPage

        # Rows pages show besides the pages themselves (portal.core.generation: what empties the page cache).
        watch(HomeFeaturedPage)
        watch(ArticleRelatedPage)
