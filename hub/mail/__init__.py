"""E-mail for what people must not miss: written to an outbox with the change, sent by a job after commit."""
