//! The OpenAI-compatible gateway (see README: issue 3 builds it here).
