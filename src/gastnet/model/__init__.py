"""The GAST-Net model: graph matrices, layers, the network and the model registry."""

from .gastnet import GASTNet, TemporalBlock, TemporalConv, receptive_field
from .graph import GRAPH_NAMES, adjacency, graph_matrix, kinematic_matrix, symmetry_matrix
from .layers import GlobalAttention, GraphAttentionBlock, LocalAttention, SemanticGraphConv
from .authors import convert_authors_state_dict, inspect_authors_state_dict, is_authors_checkpoint, load_authors_checkpoint
from .registry import ModelSpec, count_parameters, create_model, get_model_spec, list_models, load_model, register_model

__all__ = [
    "GASTNet", "TemporalBlock", "TemporalConv", "receptive_field",
    "GRAPH_NAMES", "adjacency", "graph_matrix", "kinematic_matrix", "symmetry_matrix",
    "GlobalAttention", "GraphAttentionBlock", "LocalAttention", "SemanticGraphConv",
    "ModelSpec", "count_parameters", "create_model", "get_model_spec", "list_models", "load_model", "register_model",
    "convert_authors_state_dict", "inspect_authors_state_dict", "is_authors_checkpoint", "load_authors_checkpoint",
]
