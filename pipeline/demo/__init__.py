"""`ck demo`: the whole kitchen on embedded defaults, with the platforms emulated on loopback."""
