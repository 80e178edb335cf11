"""Test doubles that stand in for the outside world: local model servers and sample requests."""
