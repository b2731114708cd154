"""Helpers the CI flows call (.github/workflows/, cloudbuild/): plan comments, environment values."""
