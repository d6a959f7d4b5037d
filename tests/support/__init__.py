"""Test support: fakes of the servers the channels talk to (Bot Connector, Bot API, Redis) and the load
drivers. Tests and benchmarks import these; nothing here is a test."""
