"""The agent desk: accounts, sessions, routing and the console's API."""
