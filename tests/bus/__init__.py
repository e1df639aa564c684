"""Bus tests: the shared contract, the in-process bus and the Redis Streams bus."""
