"""Pretrained weight files (float16 state dicts) and their index; see gastnet.model.weights."""
