"""Managing staff accounts: invitations, roles, deactivation and password resets."""
