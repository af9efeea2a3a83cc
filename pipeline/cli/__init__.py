"""The `ck` command line (Typer)."""
