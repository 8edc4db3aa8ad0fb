from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "portal.pages"
    label = "pages"
    verbose_name = "Portal pages"

    def ready(self):
        from portal.core.cache import on_cache_hit
        from portal.core.generation import watch
        from portal.pages import search_hits
        from portal.pages.models import ArticleRelatedPage, HomeFeaturedPage

        # Rows pages show besides the pages themselves (portal.core.generation: what empties the page cache).
        watch(HomeFeaturedPage)
        watch(ArticleRelatedPage)
        # A search served whole from the page cache is still counted for the promoted-results statistics.
        on_cache_hit("search-hit", search_hits.record)
