"""三审: first review (初审), review (审核), sign-off (审发) — rules and the workflow around them."""
