from tests.factories import ArticlePageFactory


def test_article_saves_with_reading_time(article_index):
    article = ArticlePageFactory(parent=article_index)
    assert article.reading_time == 1
    assert article.url == f"/en/best-practices/{article.slug}/"
