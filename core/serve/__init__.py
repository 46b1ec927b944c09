"""``etl serve``: a local web page for the whole import, over the same Python API as the CLI.

Upload a file, check its column mapping, run a dry run, import with live progress, read the
errors, download the rejects, import the fixed file, browse the history. Needs the ``serve``
extra (Starlette, uvicorn, Jinja2, python-multipart); nothing here is imported by the rest of etl.
"""
