"""Units (organisations) and the people in them."""
