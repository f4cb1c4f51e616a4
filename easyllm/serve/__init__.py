"""`easyllm serve`: a local TGI/TEI-compatible server on real small models.

It speaks TGI, TEI, the Messages API and the Inference API, so the same client code runs offline.

Heavy libraries (llama_cpp, torch, sentence_transformers) are imported only when models load. To run a server
from Python, see `easyllm.serve.testing.running_server`.
"""

from __future__ import annotations
