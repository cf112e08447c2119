"""HTML views (public, account) and the JSON API (``api/``). Scanned by ``main``."""
