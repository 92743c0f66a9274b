"""The order loop's domain: seller-fulfilled orders into Exact as sales orders, Exact's deliveries back to Walmart."""
