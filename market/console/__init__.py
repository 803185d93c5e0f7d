"""The console in the browser: server-rendered pages over the same services as the API."""
