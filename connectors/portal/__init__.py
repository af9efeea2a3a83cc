"""Portal site group (站群): static HTML per site and column."""
