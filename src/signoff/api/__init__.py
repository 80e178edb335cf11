"""The REST API: django-ninja routers over the same services as the CLI and the web screens.

Views parse input, call one service (or selector), and serialize. Every refusal uses one
envelope, ``{"error": {"code", "message", ...}}``, with the codes the UI shows too.
"""
