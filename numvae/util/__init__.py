"""Small helpers the rest of numvae shares: argument checks at the door, atomic file writes."""
