"""Scripts that generate parts of the documentation (`python tools/<name>.py`);
a package only so that `tests/test_docs.py` can import them."""
