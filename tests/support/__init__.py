"""Helpers the tests share, imported as ``from support.x import ...`` (``tests/`` is on
pytest's ``pythonpath``); fixtures stay in ``tests/conftest.py``."""
