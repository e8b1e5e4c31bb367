"""The CLB platform kernel: settings, database, Redis, auth, security, jobs, the app."""
