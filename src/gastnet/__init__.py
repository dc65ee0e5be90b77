"""gastnet: lift 2D human keypoint sequences to 3D poses with GAST-Net (ICRA 2021).

>>> import gastnet, torch
>>> model = gastnet.create_model("gastnet_rf9").eval()
>>> model(torch.zeros(1, 9, 17, 2)).shape
torch.Size([1, 1, 17, 3])
>>> gastnet.list_models("gastnet_rf27_c32", pretrained=True)
['gastnet_rf27_c32.h36m', 'gastnet_rf27_c32.h36m_noise', 'gastnet_rf27_c32.video']
"""

from importlib.metadata import PackageNotFoundError, version

from .model import (
    GASTNet,
    Weights,
    count_parameters,
    create_model,
    get_model_spec,
    list_models,
    load_model,
    register_model,
)
from .pipeline.recording import lift
from .skeleton import H36M_17, HUMANEVA_15, Skeleton, get_skeleton, list_skeletons, register_skeleton

try:
    __version__ = version("gastnet")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "lift",
    "GASTNet", "Weights", "count_parameters", "create_model", "get_model_spec", "list_models", "register_model",
    "load_model",  # deprecated: create_model(path)
    "H36M_17", "HUMANEVA_15", "Skeleton", "get_skeleton", "list_skeletons", "register_skeleton",
    "__version__",
]
