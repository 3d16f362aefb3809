"""Rate limiting (SPEC section 6): Flask-Limiter over our own `rate_limits` table.

What the rest of the app uses is named here; the modules beside it are private.
"""

from chatapp.ratelimit.auth_failures import counting_failures
from chatapp.ratelimit.limiter import find_key_owner_with_hits, init_app, llm_calls
from chatapp.ratelimit.purge import purge_expired
from chatapp.ratelimit.streams import limit_streams
from chatapp.ratelimit.usage import LimitUsage, rate_limit_report

__all__ = [
    "LimitUsage",
    "counting_failures",
    "find_key_owner_with_hits",
    "init_app",
    "limit_streams",
    "llm_calls",
    "purge_expired",
    "rate_limit_report",
]
