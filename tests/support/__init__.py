"""Test helpers: fake servers and shared fixtures."""
