"""The command-line layer: one module per `nnpcalc` command, each with `register(subparsers)`
adding its parser and `func`. Library modules never import from here."""
