"""A small blob store over obstore: one API for a local directory and S3-compatible stores."""

from market.storage.store import BLOB_STORE, BlobInfo, BlobNotFound, BlobStore, content_key, open_store

__all__ = ["BLOB_STORE", "BlobInfo", "BlobNotFound", "BlobStore", "content_key", "open_store"]
