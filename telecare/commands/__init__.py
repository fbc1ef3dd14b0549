"""The `telecare` command's subcommands, one module per area."""
