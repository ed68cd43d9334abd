"""`python -m siren ...` is the `siren` command."""

from siren.cli import main

raise SystemExit(main())
