"""Outbound HTTP clients: the Pluggable Scanner Adapter API (v1.2) and a small OCI pull client.

They depend on `portside.domain` and `portside.core` only, like the store and storage layers.
"""
