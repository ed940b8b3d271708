"""Accounts, sessions and roles: sign-up, login, logout, password change, who a token belongs to."""
