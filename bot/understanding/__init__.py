"""Reading what people write: the input pipeline (cut, clean, redact), normalisation and stems,
language, amounts, matching against the knowledge, and the decision to answer, ask or admit not knowing."""
