"""The HTTP side: the facilitator API, the static web app, OpenAPI."""
