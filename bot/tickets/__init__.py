"""The ticket lifecycle: its states, the one repository that writes tickets,
ticket_history and conversations.state, and the read queries."""
