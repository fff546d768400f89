"""Allow `python -m crvshub`."""

from crvshub.cli import main

main()
