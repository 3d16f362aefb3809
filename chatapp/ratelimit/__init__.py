"""Rate limiting (SPEC section 6): Flask-Limiter over our own `rate_limits` table."""
