"""Container images of the lightweight (pure-Python) components on Vertex AI."""

#: Pinned so the compiled templates do not change when KFP's default image moves.
PYTHON_IMAGE = "python:3.11-slim"
