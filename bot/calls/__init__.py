"""Calls: one-click video and screen share, bound to the ticket (issue 6).

The contract is docs/calls.md; this package is its framework-free half (no Sanic,
socket.io or Rasa): wire format, state machine, authorisation, providers, store
and the use cases. The connectors carry out what `service.CallService` returns.
"""
