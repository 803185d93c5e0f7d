"""Demo time: an operator moves the business clock forward in embedded mode (never production)."""
