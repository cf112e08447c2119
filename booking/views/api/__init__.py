"""The JSON API under ``/api/v1``: the same traversal tree as the site,
through the ``api`` route, with JSON renderers."""
