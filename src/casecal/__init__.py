"""CaseCal: two-way sync between a case-management calendar and Microsoft 365 / Google."""

__version__ = "0.1.0"
