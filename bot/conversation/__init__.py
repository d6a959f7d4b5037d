"""The conversation: the engine every channel calls, the dialogue (commands, flows, explanations),
replies and the bilingual message catalogue. Knows nothing about channels."""
