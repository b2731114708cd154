"""The one exception type a job turns into a message and a non-zero exit code."""


class InputError(Exception):
    """Bad input or arguments: the message says what is wrong, where, and what to do."""
