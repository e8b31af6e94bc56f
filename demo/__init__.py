"""The end-to-end demo behind `./scripts/demo` (and `storeline demo`).

It sits beside the product, not in it: it may start the sandbox, while api/, worker/ and
storeline/ never import `sandbox` or `demo`. The product is driven only through its public
surfaces — the `storeline` CLI, the database, and HTTP.
"""
