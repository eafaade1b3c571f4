"""`python -m portside` runs the command line."""

from portside.cli import main

main()
