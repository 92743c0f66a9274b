"""The stock domain: Walmart's inventory snapshots against the ledger's stock, and the stock counts that follow."""
