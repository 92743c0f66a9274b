"""The Walmart emulator over real HTTP, one test module per emulator module."""
