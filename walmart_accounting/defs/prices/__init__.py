"""The prices domain: wanted prices pushed to Walmart through bulk price feeds, failures dead-lettered."""
