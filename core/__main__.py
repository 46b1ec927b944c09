"""``python -m etl`` and the ``etl`` command: a Ctrl-C while it starts ends quietly too."""
import sys


def main() -> None:
    """Load the command line, then run it; an interruption while loading exits 130, without a traceback."""
    try:
        from .cli import main as run_cli
    except KeyboardInterrupt:
        sys.stderr.write("etl: interrupted\n")
        sys.exit(130)
    run_cli()


if __name__ == "__main__":
    main()
