"""The demo content of every app in one place, loaded by ``manage.py seed_demo`` (as bakerydemo's
``load_initial_data`` does): one module per kind of content, each with ``seed(stdout)``.

It sits above every app (import-linter's layers): it builds pages, members, statistics, hotlines, newsletter
subscribers and contributions, and no app imports it.
"""
