"""The resource store (信息资源库): tables, sessions, migrations and media files."""
