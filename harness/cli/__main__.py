import sys

from harness.cli import main

if __name__ == "__main__":  # a spawned worker process (harness verify) imports this module again
    sys.exit(main())
