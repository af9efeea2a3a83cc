"""The channel registry: which sites, accounts and feeds each unit owns."""
