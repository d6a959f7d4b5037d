"""The maintainers' tools: evaluation, YAML conversation tests, coverage, review, unanswered questions,
editor schemas and flow diagrams (`regellots test | coverage | review | unanswered | schema | graph`)."""
