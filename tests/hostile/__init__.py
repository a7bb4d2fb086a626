"""Hostile input: what a careless model, app, dataset, disk or crowd of processes sends mendoza."""
