"""GAST-Net: dilated temporal convolutions interleaved with graph attention blocks.

One module holds the parameters; two execution forms read them:

- ``"dilated"`` (layer by layer): any ``T >= receptive_field`` frames in, ``T - RF + 1`` out.
  Used for evaluation and whole videos (see :meth:`GASTNet.forward_sequence`).
- ``"strided"`` (one frame): exactly ``RF`` frames in, one frame out; every temporal convolution
  steps by its own width instead of dilating. Used for training; much cheaper per sample.

Switch with ``model.form = "strided"`` or build the model with ``form=...``; the state dict is the
same either way.
"""

from __future__ import annotations

import inspect
import math
import numbers
import reprlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

import torch
import torch.nn.functional as F
from torch import nn

from ..skeleton import Skeleton, get_skeleton, list_skeletons
from .graph import GRAPH_NAMES
from .layers import ChannelBatchNorm, GraphAttentionBlock, Pointwise, derived, fold_norm, folding
from .ops import linear_parts, relu

if TYPE_CHECKING:
    from .weights import Weights

__all__ = ["GASTNet", "TemporalConv", "TemporalBlock", "receptive_field", "validate_config"]

Form = Literal["dilated", "strided"]

# The largest models gastnet builds. Every registered model and every published GAST-Net model lies
# well inside them; a config beyond them (say a stranger's checkpoint) is refused before a single
# weight is allocated. The largest model within them has about 40 M parameters (160 MB).
MAX_WIDTH = 1024  # C, and the widest graph attention block C * 2^(n-1): every paper model's is 512
MAX_FILTER_WIDTH = 9  # each temporal filter; the paper's are 3
MAX_LAYERS = 6  # temporal layers, one per filter width; the paper's largest model (RF 243) has 5
MAX_RECEPTIVE_FIELD = 729  # 3^6; the paper's largest is 243
MAX_HEADS = 64  # global attention heads; the paper's models have 4
MAX_IN_CHANNELS = 16  # features per input joint; the paper's models read 2 (x, y)
MAX_JOINTS = 128  # joints in and out; the widest 2D layout gastnet reads has 33 (MediaPipe)

_SKELETON_FIELDS = ("name", "parents", "joints_left", "joints_right", "joint_names", "distal_joints")


def receptive_field(filter_widths: Sequence[int]) -> int:
    """Frames seen by one output frame: the product of the filter widths.

    >>> receptive_field([3, 3, 3])
    27
    """
    return math.prod(filter_widths)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _integer(key: str, value: Any, low: int, high: int) -> int:
    """``value`` as an int; ValueError unless it is an integer in ``low..high``."""
    if not (_is_int(value) and low <= value <= high):
        raise ValueError(f"{key}={reprlib.repr(value)}: expected an integer in {low}..{high}")
    return int(value)


def _integers(key: str, value: Any, low: int, high: int, min_len: int, max_len: int) -> tuple[int, ...]:
    """``value`` as a tuple of ints; ValueError unless it is a list of ``min_len..max_len`` integers
    in ``low..high``."""
    if not (isinstance(value, (list, tuple)) and min_len <= len(value) <= max_len
            and all(_is_int(v) and low <= v <= high for v in value)):
        raise ValueError(f"{key}={reprlib.repr(value)}: expected a list of {min_len} to {max_len} integers "
                         f"in {low}..{high}")
    return tuple(int(v) for v in value)


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key}={reprlib.repr(value)}: expected True or False")
    return value


def _skeleton_from_table(table: Mapping[Any, Any]) -> Skeleton:
    """The skeleton a :meth:`Skeleton.to_dict` table describes; ValueError for anything else."""
    unknown = sorted(str(k) for k in table if k not in _SKELETON_FIELDS)
    missing = [k for k in _SKELETON_FIELDS[:4] if k not in table]
    if unknown or missing:
        raise ValueError(f"skeleton: expected a table with {', '.join(_SKELETON_FIELDS)} (the last two optional), "
                         f"found {'unknown keys ' + reprlib.repr(unknown) if unknown else 'no ' + ', '.join(missing)}")
    name, names = table["name"], table.get("joint_names", [])
    if not isinstance(name, str):
        raise ValueError(f"skeleton name={reprlib.repr(name)}: expected a string")
    if not (isinstance(names, (list, tuple)) and len(names) <= MAX_JOINTS and all(isinstance(n, str) for n in names)):
        raise ValueError(f"skeleton joint_names={reprlib.repr(names)}: expected a list of at most {MAX_JOINTS} strings")
    last = MAX_JOINTS - 1
    parents = _integers("skeleton parents", table["parents"], -1, last, 1, MAX_JOINTS)
    left = _integers("skeleton joints_left", table["joints_left"], 0, last, 0, MAX_JOINTS)
    right = _integers("skeleton joints_right", table["joints_right"], 0, last, 0, MAX_JOINTS)
    distal = (_integers("skeleton distal_joints", table["distal_joints"], 0, last, 0, MAX_JOINTS)
              if "distal_joints" in table else None)
    try:  # Skeleton checks the tree itself: one root, no cycle, pairs and names that fit it
        return Skeleton(name, parents, left, right, tuple(names), distal)
    except ValueError as err:
        raise ValueError(f"skeleton {reprlib.repr(name)}: {err}") from None


def _skeleton(value: Any) -> Skeleton:
    """A registered skeleton's name, a :class:`Skeleton` or its table, as a Skeleton of at most MAX_JOINTS joints."""
    if isinstance(value, Skeleton):
        skeleton = value
    elif isinstance(value, str):
        skeleton = get_skeleton(value)
    elif isinstance(value, Mapping):
        skeleton = _skeleton_from_table(value)
    else:
        raise ValueError(f"skeleton={reprlib.repr(value)}: expected a registered skeleton name "
                         f"({', '.join(list_skeletons())}) or a skeleton table")
    if skeleton.num_joints > MAX_JOINTS:
        raise ValueError(f"skeleton {skeleton.name!r} has {skeleton.num_joints} joints; expected 1..{MAX_JOINTS}")
    return skeleton


def _check_entry(key: str, value: Any) -> Any:
    """One config entry checked on its own, in the form :class:`GASTNet` uses it."""
    if key == "skeleton":
        return _skeleton(value)
    if key == "filter_widths":
        return _integers(key, value, 1, MAX_FILTER_WIDTH, 1, MAX_LAYERS)
    if key == "channels":
        return _integer(key, value, 1, MAX_WIDTH)
    if key == "dropout":
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= float(value) < 1:
            raise ValueError(f"dropout={reprlib.repr(value)}: expected a number in [0, 1)")
        return float(value)
    if key in ("causal", "adaptive_attention", "learned_attention"):
        return _flag(key, value)
    if key == "local_graphs":
        if not (isinstance(value, (list, tuple)) and all(isinstance(g, str) and g in GRAPH_NAMES for g in value)
                and len(set(value)) == len(value)):
            raise ValueError(f"local_graphs={reprlib.repr(value)}: expected distinct names from "
                             f"{', '.join(GRAPH_NAMES)}")
        return tuple(value)
    if key == "num_heads":
        return _integer(key, value, 1, MAX_HEADS)
    if key == "in_channels":
        return _integer(key, value, 1, MAX_IN_CHANNELS)
    return None if value is None else _integer(key, value, 1, MAX_JOINTS)  # num_joints_out


def validate_config(config: Mapping[str, Any], partial: bool = False) -> dict[str, Any]:
    """Check a model config (keyword arguments of :class:`GASTNet`) before anything is allocated.

    Only known keys, each of the right type (``True``/``False`` for switches, integers for
    sizes) and inside the sizes gastnet builds: ``channels`` 1..MAX_WIDTH and the widest graph
    attention block ``C * 2^(n-1)`` at most MAX_WIDTH, 1..MAX_LAYERS filter widths of
    1..MAX_FILTER_WIDTH with a receptive field of at most MAX_RECEPTIVE_FIELD (odd widths unless
    causal), 1..MAX_HEADS heads dividing ``channels`` (with a global branch), ``dropout`` in
    [0, 1), 1..MAX_IN_CHANNELS input features, at most MAX_JOINTS joints in and out, and a
    registered skeleton or a valid skeleton table. ValueError names the key, the value found and
    what is allowed.

    Returns the complete arguments (defaults for missing keys, the skeleton as a
    :class:`~gastnet.skeleton.Skeleton`). ``partial=True`` checks only the entries given, each on
    its own (overrides of a preset not known yet), and returns those.
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"expected a table of GASTNet arguments, found {type(config).__name__}")
    unknown = sorted(str(k) for k in config if k not in _DEFAULTS)
    if unknown:
        raise ValueError(f"unknown keys {reprlib.repr(unknown)}; expected some of {', '.join(_DEFAULTS)}")
    if partial:
        return {key: _check_entry(key, value) for key, value in config.items()}
    args = {key: _check_entry(key, config.get(key, default)) for key, default in _DEFAULTS.items()}
    widths, channels, heads = args["filter_widths"], args["channels"], args["num_heads"]
    if receptive_field(widths) > MAX_RECEPTIVE_FIELD:
        raise ValueError(f"filter_widths={list(widths)}: receptive field {receptive_field(widths)}; "
                         f"expected at most {MAX_RECEPTIVE_FIELD}")
    if not args["causal"] and any(w % 2 == 0 for w in widths):
        raise ValueError(f"a non-causal model needs odd filter widths (a centre tap), got {list(widths)}")
    widest = channels * 2 ** (len(widths) - 1)
    if widest > MAX_WIDTH:
        raise ValueError(f"channels={channels} with {len(widths)} filter widths: the last graph attention block is "
                         f"{widest} channels wide (C * 2^{len(widths) - 1}); expected at most {MAX_WIDTH}")
    if (args["adaptive_attention"] or args["learned_attention"]) and channels % heads:
        raise ValueError(f"num_heads={heads}: expected a divisor of channels={channels} "
                         "(each head takes an equal share)")
    return args


def _end(frames: int, step: int) -> int | None:
    """Slice end that drops the last ``frames * step`` frames (None drops nothing)."""
    return -frames * step if frames else None


class TemporalConv(nn.Module):
    """Temporal convolution with kernel (width, 1) and no bias on ``(B, T, J, C_in)``.

    The weight has the shape ``(C_out, C_in, width)``. The taps are gathered into the channel
    axis and multiplied in one matrix product.
    """

    def __init__(self, in_channels: int, out_channels: int, width: int) -> None:
        super().__init__()
        self.width = width
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, width))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.bias: nn.Parameter | None = None  # only set when a BatchNorm is folded in (see fusion.py)

    def flat_weight(self) -> torch.Tensor:
        """The weight as ``(C_out, width * C_in)``, taps oldest first."""
        return derived(self, "flat", [self.weight], lambda: self.weight.transpose(1, 2).flatten(1))

    def forward(
        self, x: torch.Tensor, dilation: int = 1, strided: bool = False,
        weight: torch.Tensor | None = None, bias: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``(B, T, J, C_in) -> (B, T_out, J, C_out)``.

        Dilated: ``T_out = T - (width - 1) * dilation``. Strided: stride = width, ``T_out = T / width``.
        ``weight`` (flat, see :meth:`flat_weight`) and ``bias`` replace the layer's own when given.
        """
        w = self.width
        if weight is None:
            weight, bias = self.flat_weight(), self.bias
        if strided:
            taps = x.unflatten(1, (x.shape[1] // w, w)).transpose(2, 3).flatten(3)
        elif w == 1:
            taps = x
        else:  # tap k reads frames k*d .. T - (w-1-k)*d - 1; slicing without the length keeps T symbolic for export
            parts = [x[:, k * dilation : _end(w - 1 - k, dilation)] for k in range(w)]
            if x.shape[0] == 1 and not torch.jit.is_tracing():
                # one sequence: every tap is a contiguous slice, multiplied in place of a concatenation
                return linear_parts(parts, weight, bias)
            taps = torch.cat(parts, dim=-1)
        return F.linear(taps, weight, bias)

    def normed(self, x: torch.Tensor, norm: nn.Module, dilation: int = 1, strided: bool = False) -> torch.Tensor:
        """``relu(norm(self(x)))``, with ``norm`` folded into the weights where that is the same
        function (inference)."""
        if folding(self, norm):
            weight, bias = fold_norm(self, "folded", norm, self.flat_weight(), self.bias)
            return relu(self(x, dilation, strided, weight, bias))
        return relu(norm(self(x, dilation, strided)))


class TemporalBlock(nn.Module):
    """Dilated convolution, BN, ReLU, 1 x 1 convolution, BN, ReLU, dropout, plus the cropped input.

    Shapes: ``(B, T, J, D) -> (B, T_out, J, D)``.
    """

    def __init__(self, channels: int, width: int, dilation: int, causal: bool, dropout: float) -> None:
        super().__init__()
        self.width, self.dilation, self.causal = width, dilation, causal
        self.conv = TemporalConv(channels, channels, width)
        self.norm: nn.Module = ChannelBatchNorm(channels)  # nn.Identity once fused (model/fusion.py)
        self.pointwise = Pointwise(channels, channels, dropout)

    def forward(self, x: torch.Tensor, strided: bool = False) -> torch.Tensor:
        w, d = self.width, self.dilation
        y = self.pointwise(self.conv.normed(x, self.norm, d, strided))
        if strided:
            residual = x[:, (w - 1 if self.causal else (w - 1) // 2) :: w]
        else:
            start = (w - 1) * d if self.causal else (w - 1) * d // 2
            residual = x[:, start : _end((w - 1) * d - start, 1)]
        return y.add_(residual) if not (torch.is_grad_enabled() or torch.jit.is_tracing()) else y + residual


class GASTNet(nn.Module):
    """Graph attention spatio-temporal network lifting 2D keypoint sequences to 3D.

    Args:
        skeleton: a :class:`~gastnet.skeleton.Skeleton` or a registered name (``"h36m17"``,
            ``"humaneva15"``); it fixes the number of input joints J and the graphs.
        filter_widths: temporal filter widths; the receptive field is their product. The number
            of graph attention blocks equals their count.
        channels: C, the width after the stem; it doubles in every graph attention block.
        dropout: dropout rate in the temporal blocks and attention branches.
        causal: output frame t sees only frames up to t (real-time use).
        local_graphs: graphs of the local attention, from ``"first_order"`` (A), ``"symmetric"``
            (A_s) and ``"kinematic"`` (A_c); empty removes the local branch.
        adaptive_attention: use the data-dependent global attention ``B_k``.
        learned_attention: use the learned global matrices ``C_k``. Without both the global
            branch is removed.
        num_heads: K, heads of the global attention.
        in_channels: features per input joint (2 for x, y).
        num_joints_out: joints of the output; ``None`` means J. Otherwise a learned linear joint
            regressor (J_out x J) maps the J predicted joints to J_out.
        form: ``"dilated"`` or ``"strided"``, see the module docstring.

    Attributes:
        pretrained_weights: what the weights are (:class:`~gastnet.model.weights.Weights`: training
            data, 2D source, frame rates, metrics, ...), set by :func:`gastnet.create_model` when
            it loads weights (shipped, or from a checkpoint file); None for a model it built with
            random weights.

    Input ``(B, T, J, in_channels)`` normalised screen coordinates; output
    ``(B, T - RF + 1, J_out, 3)`` root-relative camera-frame positions (metres when trained on
    Human3.6M); in the strided form ``T`` must equal the receptive field and one frame comes out.
    """

    def __init__(
        self,
        skeleton: Skeleton | str = "h36m17",
        filter_widths: Sequence[int] = (3, 3, 3),
        channels: int = 128,
        dropout: float = 0.05,
        causal: bool = False,
        local_graphs: Sequence[str] = ("symmetric", "kinematic"),
        adaptive_attention: bool = True,
        learned_attention: bool = True,
        num_heads: int = 4,
        in_channels: int = 2,
        num_joints_out: int | None = None,
        form: Form = "dilated",
    ) -> None:
        super().__init__()
        checked = validate_config({
            "skeleton": skeleton, "filter_widths": filter_widths, "channels": channels, "dropout": dropout,
            "causal": causal, "local_graphs": local_graphs, "adaptive_attention": adaptive_attention,
            "learned_attention": learned_attention, "num_heads": num_heads, "in_channels": in_channels,
            "num_joints_out": num_joints_out,
        })
        resolved: Skeleton = checked["skeleton"]
        filter_widths = checked["filter_widths"]
        self.skeleton = resolved
        self.filter_widths = filter_widths
        self.causal = causal
        self.in_channels = in_channels
        self.num_joints_out = num_joints_out or resolved.num_joints
        self.config: dict[str, Any] = {
            "skeleton": resolved.name if _is_registered(resolved) else resolved.to_dict(),
            "filter_widths": list(filter_widths),
            "channels": channels,
            "dropout": dropout,
            "causal": causal,
            "local_graphs": list(local_graphs),
            "adaptive_attention": adaptive_attention,
            "learned_attention": learned_attention,
            "num_heads": num_heads,
            "in_channels": in_channels,
            "num_joints_out": num_joints_out,
        }

        def attention_block(width: int) -> GraphAttentionBlock:
            return GraphAttentionBlock(
                width, resolved, local_graphs, adaptive_attention, learned_attention, num_heads, dropout
            )

        self.input_norm: nn.Module = ChannelBatchNorm(in_channels)  # nn.Identity once fused (model/fusion.py)
        self.stem = TemporalConv(in_channels, channels, filter_widths[0])
        self.stem_norm: nn.Module = ChannelBatchNorm(channels)
        self.attention_blocks = nn.ModuleList([attention_block(channels)])
        self.temporal_blocks = nn.ModuleList()
        width, dilation = 2 * channels, filter_widths[0]
        for w in filter_widths[1:]:
            self.temporal_blocks.append(TemporalBlock(width, w, dilation, causal, dropout))
            self.attention_blocks.append(attention_block(width))
            width, dilation = 2 * width, dilation * w
        self.head = nn.Linear(width, 3, bias=False)
        self.joint_regressor = (
            nn.Linear(resolved.num_joints, self.num_joints_out, bias=False)
            if self.num_joints_out != resolved.num_joints
            else None
        )
        self.form = form
        self.pretrained_weights: Weights | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], form: Form = "dilated") -> GASTNet:
        """Rebuild a model from :attr:`config` (e.g. as stored in a checkpoint); ValueError, before
        anything is allocated, for a config :func:`validate_config` refuses."""
        return cls(**validate_config(config), form=form)

    @property
    def form(self) -> Form:
        return self._form

    @form.setter
    def form(self, value: Form) -> None:
        if value not in ("dilated", "strided"):
            raise ValueError(f"form must be 'dilated' or 'strided', got {value!r}")
        self._form = value

    @property
    def num_joints(self) -> int:
        return self.skeleton.num_joints

    @property
    def receptive_field(self) -> int:
        return receptive_field(self.filter_widths)

    @property
    def padding(self) -> tuple[int, int]:
        """Frames of edge padding (left, right) that give every input frame an output."""
        total = self.receptive_field - 1
        return (total, 0) if self.causal else (total // 2, total - total // 2)

    def _check_input(self, x: torch.Tensor, strided: bool) -> None:
        j, c, rf = self.num_joints, self.in_channels, self.receptive_field
        if x.ndim != 4 or x.shape[2] != j or x.shape[3] != c:
            raise ValueError(f"expected input of shape (B, T, {j}, {c}), got {tuple(x.shape)}")
        t = x.shape[1]
        if strided and t != rf:
            raise ValueError(f"the strided form takes exactly {rf} frames (the receptive field), got {t}")
        if t < rf:
            raise ValueError(f"expected at least {rf} frames (the receptive field), got {t}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, J, 2) -> (B, T - RF + 1, J_out, 3)`` (one output frame in the strided form)."""
        return self._run(x, strided=self.form == "strided")

    def _run(self, x: torch.Tensor, strided: bool) -> torch.Tensor:
        self._check_input(x, strided)
        x = self.input_norm(x)
        for stage in range(len(self.attention_blocks)):
            x = self._stage(stage, x, strided)
        return self._output(x)

    def _stage(self, stage: int, x: torch.Tensor, strided: bool = False) -> torch.Tensor:
        """Temporal layer ``stage`` (0: the stem) and the graph attention block after it."""
        if stage == 0:
            return self.attention_blocks[0](self.stem.normed(x, self.stem_norm, 1, strided))
        return self.attention_blocks[stage](self.temporal_blocks[stage - 1](x, strided))

    def _output(self, x: torch.Tensor) -> torch.Tensor:
        """The head (and joint regressor): ``(B, T', J, 2^n C) -> (B, T', J_out, 3)``."""
        out = self.head(x)
        if self.joint_regressor is not None:
            out = self.joint_regressor(out.transpose(-1, -2)).transpose(-1, -2)
        return out

    def pad_sequence(self, x: torch.Tensor) -> torch.Tensor:
        """Edge-pad ``(B, T, J, C)`` in time by :attr:`padding` (repeating the first/last frame)."""
        left, right = self.padding
        parts = [x[:, :1].expand(-1, left, -1, -1), x, x[:, -1:].expand(-1, right, -1, -1)]
        return torch.cat(parts, dim=1)

    def forward_sequence(self, x: torch.Tensor, chunk_frames: int | None = 128) -> torch.Tensor:
        """Lift a whole sequence, one output per input frame: ``(B, T, J, 2) -> (B, T, J_out, 3)``.

        Uses the dilated form on the edge-padded input (for a causal model, output t only
        depends on frames up to t). Without autograd, a long sequence runs ``chunk_frames`` input
        frames at a time through all layers, each temporal layer keeping the last frames its
        taps still need from the chunk before (nothing is computed twice): the activations stay
        in the CPU's cache (about 1.3-1.4x the fps on a CPU, ``benchmarks/bench_speed.py
        --parts``). ``None`` runs every layer over the whole sequence at once. The outputs are the same either way.
        """
        if x.ndim != 4 or x.shape[1] < 1:
            raise ValueError(f"expected input of shape (B, T, {self.num_joints}, {self.in_channels}), got {tuple(x.shape)}")
        padded = self.pad_sequence(x)
        if (chunk_frames is None or padded.shape[1] <= chunk_frames + self.receptive_field
                or torch.is_grad_enabled() or torch.jit.is_tracing()):
            return self._run(padded, strided=False)
        return self._run_chunked(padded, chunk_frames)

    def _run_chunked(self, x: torch.Tensor, chunk_frames: int) -> torch.Tensor:
        """The dilated form over ``x`` (B, T, J, C), ``chunk_frames`` frames at a time: (B, T - RF + 1, J_out, 3)."""
        self._check_input(x, strided=False)
        # frames of its input each temporal layer's taps reach back (stem first)
        histories = [self.filter_widths[0] - 1] + [
            (b.width - 1) * b.dilation for b in cast(Sequence[TemporalBlock], self.temporal_blocks)
        ]
        tails: list[torch.Tensor | None] = [None] * len(histories)  # per temporal layer: its last input frames
        outputs = []
        for start in range(0, x.shape[1], chunk_frames):
            h = self.input_norm(x[:, start : start + chunk_frames])
            for stage, history in enumerate(histories):
                tail = tails[stage]
                h = h if tail is None else torch.cat([tail, h], dim=1)
                tails[stage] = h[:, max(h.shape[1] - history, 0) :] if history else None
                if h.shape[1] <= history:  # not yet enough frames for this layer's first output
                    break
                h = self._stage(stage, h)
            else:
                outputs.append(h)
        return self._output(torch.cat(outputs, dim=1))

    def extra_repr(self) -> str:
        return (
            f"skeleton={self.skeleton.name}, receptive_field={self.receptive_field}, "
            f"causal={self.causal}, form={self.form!r}"
        )


def _is_registered(skeleton: Skeleton) -> bool:
    try:
        return get_skeleton(skeleton.name) == skeleton
    except ValueError:
        return False


# the config keys: GASTNet's arguments except the execution form, with their defaults
_DEFAULTS: dict[str, Any] = {
    name: p.default for name, p in inspect.signature(GASTNet.__init__).parameters.items()
    if name not in ("self", "form")
}
