"""The kernel's web layer: the app factory, request dependencies, security headers,
CSRF and Origin checks, error pages, templates, forms, and the ops endpoints."""
