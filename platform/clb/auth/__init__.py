"""Identity: staff accounts with roles and server-side sessions; anonymous visitor tokens."""
