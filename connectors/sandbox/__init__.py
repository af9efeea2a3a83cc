"""The platform emulators run together (`ck sandbox`), and the loopback server they share."""
