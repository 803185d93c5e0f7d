"""File delivery to buyers: what a licence covers, streamed downloads, signed URLs, counting."""
