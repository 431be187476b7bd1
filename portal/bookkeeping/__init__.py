"""Bookkeeping: documents and transactions arrive, are prepared with Exact's master data,
and are exported."""
