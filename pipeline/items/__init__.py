"""Items and their revisions in the store (先入库，后使用)."""
