"""Shared fixtures: the app on each database, clients, users and the fake providers."""

pytest_plugins = ["tests.fakes.fixtures"]
