"""Organizations' event streams published to a stream platform (NATS JetStream, Kafka): opt-ins, cursor, bridge."""
