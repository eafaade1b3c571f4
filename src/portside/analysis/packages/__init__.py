"""Parsers of package records found in a layer, one module per package manager or ecosystem.

Each parser takes the path and the (bounded) bytes of one file and returns a `SourceResult`;
malformed records are skipped with a note, never raised.
"""
