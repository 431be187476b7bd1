"""Exact Online: OAuth and token store, HTTP client, divisions, sync, and the sandbox server."""
