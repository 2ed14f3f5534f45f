"""The ticket lifecycle: its states (states.py), the one repository that writes tickets,
ticket_history and conversations.state (repository.py), the shared read queries
(queries.py), and the handoff use case that opens a ticket (handoff.py)."""
