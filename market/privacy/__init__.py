"""Personal information: data-subject requests and what an upheld withdrawal or deletion does."""
