"""The shipped knowledge base, installed with Regellotsen as the package `regellotsen_knowledge`.

Only its YAML files matter (and `_schema/` for editors); the loader skips this file. Code finds the
directory through `bot.knowledge.loading.shipped_directory()` (importlib.resources), so the same
knowledge answers from a checkout, an editable install and a wheel.
"""
