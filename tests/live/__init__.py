"""Tests against a live `market serve` (embedded SQLite, a fresh MARKET_HOME)."""
