"""The code behind the top-level scripts compile.py and run.py."""
