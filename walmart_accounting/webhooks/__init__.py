"""The webhook receiver: verifies Walmart and Exact Online deliveries and writes them to the store's inbox."""
