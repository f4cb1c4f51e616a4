"""Client facades: `easyllm.clients.huggingface` is the openai<1 style module."""
