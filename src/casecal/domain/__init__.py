"""The pure core of CaseCal: host entries, the canonical event, field mappings and conversions.

Nothing in this package does I/O; it imports only the standard library, dateutil and tzlocal's
CLDR tables.
"""
