"""W9 peer: ``etl run`` as it is, except that the run keeps no before-images.

Usage: python w9_without_before_images.py ARGS...   (the arguments of ``etl``)
A run into a store that keeps history notes what it writes (``etl.history.Written``: each created
document's fingerprint, each updated field's old and new value) and keeps it in the history entry, for
``etl history undo``. Here the pipeline is given none to keep, all else the same: the difference
with ``etl run`` is what keeping before-images costs, in time and in the store's size.
"""
from etl import pipeline
from etl.cli import main

pipeline.Written = lambda: None  # the pipeline keeps before-images in ``Written()`` when the sink keeps history

if __name__ == "__main__":
    main()
