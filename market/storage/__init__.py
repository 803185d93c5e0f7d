"""A small blob store over obstore: one API for a local directory and S3-compatible stores."""

from market.storage.store import BlobInfo, BlobNotFound, BlobStore, content_key, open_store

__all__ = ["BlobInfo", "BlobNotFound", "BlobStore", "content_key", "open_store"]
