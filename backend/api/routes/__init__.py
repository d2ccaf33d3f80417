"""One module per route group; each exports `router`, already carrying its full path prefix.

The prefix sits on each router (not on include_router) so route templates, which label metrics
and logs, are complete paths.
"""

API_PREFIX = "/api/v1"
