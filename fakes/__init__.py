"""In-process fakes of the Google Cloud services this project talks to (for tests and local trials).

Each fake serves the real API surface, so the real client libraries talk to it over their real
transport; none of them is a Python-level mock.
"""
