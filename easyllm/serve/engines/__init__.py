"""Model engines: llama-cpp-python for GGUF generation, sentence-transformers for embeddings."""
