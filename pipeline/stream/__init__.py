"""The faust app: the router agent on ck.items and one agent per channel on ck.deliver.<channel>."""
