"""The operator web app: server-rendered screens with htmx partials, over the same services."""
