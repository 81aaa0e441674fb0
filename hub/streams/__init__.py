"""Organizations' event streams published to a stream platform (NATS JetStream): opt-in, cursor and bridge."""
