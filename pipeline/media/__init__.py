"""Images entering the store: checked, measured, stored once by SHA-256."""
