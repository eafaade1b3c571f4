"""Portside's web portal: server-rendered pages at `/`, signed-in through `/c/login`."""
