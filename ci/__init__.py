"""Helpers the CI flows call (.github/workflows/, cloudbuild/): plan comment, env settings."""
