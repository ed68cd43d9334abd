"""`python -m siren.cli ...` is the `siren` command, as `python -m siren` is."""

from siren.cli import main

raise SystemExit(main())
