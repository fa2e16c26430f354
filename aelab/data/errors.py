"""The one error type for missing or malformed data."""


class DataError(ValueError):
    """A data file or folder is missing, malformed, or does not match what was expected.

    Messages name the path, say what was expected, and how to fix it, so that a user
    never has to read a NumPy, gzip or TFDS traceback to find out which file is wrong.
    """
