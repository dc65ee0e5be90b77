"""The GAST-Net model: graph matrices, layers, the network, the model registry and its weights."""

from .authors import convert_authors_state_dict, inspect_authors_state_dict, is_authors_checkpoint
from .checkpoint import model_from_checkpoint
from .deprecated import load_authors_checkpoint, load_model
from .gastnet import GASTNet, TemporalBlock, TemporalConv, receptive_field
from .graph import GRAPH_NAMES, adjacency, graph_matrix, kinematic_matrix, symmetry_matrix
from .layers import GlobalAttention, GraphAttentionBlock, LocalAttention, SemanticGraphConv
from .registry import (
    ModelSpec,
    count_parameters,
    create_model,
    get_model_spec,
    list_models,
    register_model,
    split_model_name,
)
from .weights import Metric, Weights

__all__ = [
    "GASTNet", "TemporalBlock", "TemporalConv", "receptive_field",
    "GRAPH_NAMES", "adjacency", "graph_matrix", "kinematic_matrix", "symmetry_matrix",
    "GlobalAttention", "GraphAttentionBlock", "LocalAttention", "SemanticGraphConv",
    "ModelSpec", "count_parameters", "create_model", "get_model_spec", "list_models", "register_model",
    "split_model_name", "Metric", "Weights",
    "convert_authors_state_dict", "inspect_authors_state_dict", "is_authors_checkpoint",
    "load_model", "model_from_checkpoint", "load_authors_checkpoint",
]
