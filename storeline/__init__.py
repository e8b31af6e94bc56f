"""Storeline's shared kernel: settings, database access, SQL loading, crypto and enums."""
