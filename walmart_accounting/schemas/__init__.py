"""pandera models for every frame that crosses an asset boundary."""
