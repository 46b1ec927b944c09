"""Readers and sinks shipped with etl, registered through the same hooks as third-party plugins."""
