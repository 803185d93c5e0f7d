"""Root test configuration. Database fixtures live in tests/api/conftest.py so the pure
library tests never import the service."""
