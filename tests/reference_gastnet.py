"""A straightforward GAST-Net, written directly from the equations, for benchmarks and tests only.

It keeps the paper's ``(B, C, T, J)`` layout with 2-D convolutions, applies every channel's
graph matrix with its own matrix product (self-loop and neighbour parts separately), and builds
the global attention's pairwise concatenation ``[theta(x_i) || phi(x_j)]`` for every pair of
joints. Parameter names and shapes equal :class:`gastnet.GASTNet`'s, so a state dict loads into
either and the two must give the same outputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gastnet.model.graph import graph_matrix
from gastnet.skeleton import get_skeleton


class Conv1x1(nn.Module):
    def __init__(self, cin: int, cout: int, bias: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(cout, cin))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None

    def forward(self, x):  # (B, C, T, J)
        return F.conv2d(x, self.weight[:, :, None, None], self.bias)


class RefPointwise(nn.Module):
    def __init__(self, cin, cout, dropout=0.0):
        super().__init__()
        self.linear = Conv1x1(cin, cout)
        self.norm = nn.BatchNorm2d(cout, momentum=0.1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(F.relu(self.norm(self.linear(x))))


class RefSemGraphConv(nn.Module):
    def __init__(self, cin, cout, mask):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(2, cin, cout))
        self.mask = mask
        self.logits = nn.Parameter(torch.ones(cout, int(mask.sum())))

    def forward(self, x):  # (B, C, T, J)
        x = x.permute(0, 2, 3, 1)  # (B, T, J, C)
        h0 = torch.matmul(x, self.weight[0]).permute(0, 1, 3, 2).unsqueeze(-1)  # (B, T, Cout, J, 1)
        h1 = torch.matmul(x, self.weight[1]).permute(0, 1, 3, 2).unsqueeze(-1)
        cout, j = self.logits.shape[0], self.mask.shape[0]
        adj = torch.full((cout, j, j), -9e15)
        adj[:, self.mask] = self.logits
        adj = torch.softmax(adj, dim=2)
        eye = torch.eye(j)
        out = torch.matmul(adj * eye, h0) + torch.matmul(adj * (1 - eye), h1)  # (B, T, Cout, J, 1)
        return out.squeeze(-1).permute(0, 2, 1, 3)  # (B, Cout, T, J)


class RefLocal(nn.Module):
    def __init__(self, dim, skeleton, graphs, dropout):
        super().__init__()
        self.convs = nn.ModuleList(RefSemGraphConv(dim, dim, graph_matrix(skeleton, g)) for g in graphs)
        self.norms = nn.ModuleList(nn.BatchNorm2d(dim, momentum=0.1) for _ in graphs)
        self.fuse = RefPointwise(len(graphs) * dim, dim, dropout)

    def forward(self, x):
        return self.fuse(torch.cat([F.relu(n(c(x))) for c, n in zip(self.convs, self.norms)], dim=1))


class RefGlobal(nn.Module):
    def __init__(self, dim, joints, heads, dropout):
        super().__init__()
        self.heads, self.hd = heads, dim // heads
        self.theta = Conv1x1(dim, dim, bias=True)
        self.phi = Conv1x1(dim, dim, bias=True)
        self.g = Conv1x1(dim, dim, bias=True)
        self.w_f = nn.Parameter(torch.empty(heads, 2 * self.hd))
        self.C = nn.Parameter(torch.zeros(heads, joints, joints))
        self.out = RefPointwise(dim, dim, dropout)

    def forward(self, x):  # (B, D, T, J)
        b, _, t, j = x.shape
        k, h = self.heads, self.hd

        def heads_of(y):  # (B, D, T, J) -> (B, T, K, J, h)
            return y.view(b, k, h, t, j).permute(0, 3, 1, 4, 2)

        th, ph, g = heads_of(self.theta(x)), heads_of(self.phi(x)), heads_of(self.g(x))
        pairs = torch.cat(
            [th.unsqueeze(4).expand(-1, -1, -1, -1, j, -1), ph.unsqueeze(3).expand(-1, -1, -1, j, -1, -1)], dim=-1
        )  # (B, T, K, J, J, 2h): [theta(x_i) || phi(x_j)]
        scores = F.leaky_relu(torch.einsum("btkijc,kc->btkij", pairs, self.w_f), 0.2)
        att = torch.softmax(scores, dim=-1) + self.C
        out = torch.matmul(att, g)  # (B, T, K, J, h)
        return self.out(out.permute(0, 2, 4, 1, 3).reshape(b, k * h, t, j))


class RefAttentionBlock(nn.Module):
    def __init__(self, dim, skeleton, dropout):
        super().__init__()
        self.local = RefLocal(dim, skeleton, ("symmetric", "kinematic"), dropout)
        self.glob = RefGlobal(dim, skeleton.num_joints, 4, dropout)
        self.fuse = RefPointwise(3 * dim, 2 * dim)

    def forward(self, x):
        return self.fuse(torch.cat([x, self.local(x), self.glob(x)], dim=1))


class RefTemporalConv(nn.Module):
    def __init__(self, cin, cout, width):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(cout, cin, width))

    def forward(self, x, dilation, strided):
        w = self.weight.shape[-1]
        if strided:
            return F.conv2d(x, self.weight[..., None], stride=(w, 1))
        return F.conv2d(x, self.weight[..., None], dilation=(dilation, 1))


class RefTemporalBlock(nn.Module):
    def __init__(self, dim, width, dilation, causal, dropout):
        super().__init__()
        self.w, self.d, self.causal = width, dilation, causal
        self.conv = RefTemporalConv(dim, dim, width)
        self.norm = nn.BatchNorm2d(dim, momentum=0.1)
        self.pointwise = RefPointwise(dim, dim, dropout)

    def forward(self, x, strided):
        y = self.pointwise(F.relu(self.norm(self.conv(x, self.d, strided))))
        w, d = self.w, self.d
        if strided:
            res = x[:, :, (w - 1 if self.causal else (w - 1) // 2) :: w]
        else:
            pad = (w - 1) * d if self.causal else (w - 1) * d // 2
            res = x[:, :, pad : pad + y.shape[2]]
        return y + res


class ReferenceGASTNet(nn.Module):
    """Full model (A_s, A_c, B_k, C_k); input (B, T, J, 2), output (B, T', J, 3)."""

    def __init__(self, skeleton="h36m17", filter_widths=(3, 3, 3), channels=128, dropout=0.05, causal=False):
        super().__init__()
        skeleton = get_skeleton(skeleton)
        self.widths = tuple(filter_widths)
        self.input_norm = nn.BatchNorm2d(2, momentum=0.1)
        self.stem = RefTemporalConv(2, channels, filter_widths[0])
        self.stem_norm = nn.BatchNorm2d(channels, momentum=0.1)
        self.attention_blocks = nn.ModuleList([RefAttentionBlock(channels, skeleton, dropout)])
        self.temporal_blocks = nn.ModuleList()
        dim, dilation = 2 * channels, filter_widths[0]
        for w in filter_widths[1:]:
            self.temporal_blocks.append(RefTemporalBlock(dim, w, dilation, causal, dropout))
            self.attention_blocks.append(RefAttentionBlock(dim, skeleton, dropout))
            dim, dilation = 2 * dim, dilation * w
        self.head = Conv1x1(dim, 3)
        self.strided = False

    def forward(self, x):
        x = self.input_norm(x.permute(0, 3, 1, 2))  # (B, 2, T, J)
        x = F.relu(self.stem_norm(self.stem(x, 1, self.strided)))
        x = self.attention_blocks[0](x)
        for temporal, attention in zip(self.temporal_blocks, self.attention_blocks[1:]):
            x = attention(temporal(x, self.strided))
        return self.head(x).permute(0, 2, 3, 1)  # (B, T', J, 3)
