"""Revisions of a resource: the dataset itself, as immutable sets of files in the blob store."""
