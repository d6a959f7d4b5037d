"""The knowledge base: its schema (`model`), YAML with line numbers (`yamlfile`, `loader`), the kinds of
entries (`kinds`), validation, rule evaluation (`rules`), and the loaded, indexed whole (`loaded`, `loading`)."""

from bot.knowledge.loaded import Knowledge, assemble
from bot.knowledge.loading import DEFAULT_DIR, default_directory, load_knowledge, read_files

__all__ = ["DEFAULT_DIR", "Knowledge", "assemble", "default_directory", "load_knowledge", "read_files"]
