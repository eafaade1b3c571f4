"""End-to-end tests: a real `portside serve` process driven by real registry clients."""
