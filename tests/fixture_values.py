"""Values the test fixtures use, importable from any test module (unlike conftest.py, whose
module name is shared by every conftest in the tree)."""

ADMIN_PASSWORD = "Adm1nPassw0rd"
