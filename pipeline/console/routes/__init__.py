"""The console's pages, one module per area; each router uses `ConsoleRoute` so errors become pages."""
