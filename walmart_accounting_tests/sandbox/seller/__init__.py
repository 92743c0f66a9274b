"""The synthetic seller is ground truth for the emulator and end-to-end tests: its data must be repeatable and add up."""
