"""The statistics JSON API at /api/stats/ on django-ninja, with its OpenAPI document at /api/stats/openapi.json.

``api`` is mounted by the root URLconf. Each resource is a ninja ``Router`` in its own module (``datasets``:
datasets and their observations), its answers are the schemas in ``schemas`` and its query parameters those in
``params``; a new resource (member submissions, say) is a new router added below.
"""

from portal.core.json_api import PortalAPI
from portal.stats.api import datasets

api = PortalAPI(
    title="Hotline Network statistics API",
    description=(
        "Network statistics published on the portal: datasets and their observations (figures per period, country "
        "and organisation). Datasets restricted to members are only visible to signed-in members; to everyone else "
        "they do not exist (404)."
    ),
    urls_namespace="stats_api",
)
api.add_router("", datasets.router)
