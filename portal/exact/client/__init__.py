"""An Exact Online API client with no Flask and no database: hosts, OAuth, the single-flight
token refresh (its lock and store are passed in), per-division rate limits, typed errors in
words a bookkeeper understands, and paging. The portal's services (``portal.exact``) wire it to
the app; import-linter keeps it free of the portal."""
