"""Secure ingestion: quarantine, sandboxed validation, then the ready area and catalog.

A pure library (no HTTP, no IPython): the upload endpoint and the kernel's ``load()``
both call :func:`ingest`.
"""
