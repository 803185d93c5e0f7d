"""`market witness`: an independent witness of transparency logs (c2sp.org/tlog-witness)."""
