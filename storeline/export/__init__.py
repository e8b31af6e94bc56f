"""Exports: copies of the warehouse in an analytics store, each run as a job of the engine under
its own export platform (storeline/platforms/__init__.py); the engine never imports them."""
