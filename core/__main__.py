"""``python -m etl``: the same as the ``etl`` command."""
from .cli import main

main()
