"""Response shapes: OpenAI-style objects returned to callers."""
