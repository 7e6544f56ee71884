"""Runnable example extensions (``kiket-sdk dev examples.quickstart:sdk``)."""
