"""One-run speed report for GAST-Net on this CPU (issue 13, item 3).

Prints, measured in the same process with the same thread count:

- whole-sequence inference (eval, no grad, dilated form over an edge-padded sequence) in frames
  per second, ours (as built, and with the BatchNorms folded) vs the straightforward reference;
- FLOPs per frame (``torch.utils.flop_counter.FlopCounterMode`` on our forward) and the GFLOP/s
  that achieves, as a fraction of this CPU's attainable GFLOP/s: the best of large GEMMs through
  PyTorch's default CPU product (MKL) and through oneDNN, measured here;
- training samples per second (strided form, MPJPE, Adam/amsgrad, the paper's batch of 128),
  ours vs the reference, timed alternately (best of three each) so that a noisy neighbour hurts
  both alike; with the FLOPs per sample and what a 7x ratio would need of the attainable rate;
- streaming pushes per second of the causal RF 81 model (``StreamingLifter``), the best of five
  runs of ``--pushes`` pushes.

    python benchmarks/bench_speed.py                    # 2 threads, RF 27 / 81 / 243 (paper widths)
    python benchmarks/bench_speed.py --rf 81 --threads 2
    python benchmarks/bench_speed.py --profile          # where the time goes: top ops, RF 81
    python benchmarks/bench_speed.py --parts            # what single changes buy, A/B in one run
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

import gastnet
from gastnet.model.fusion import fuse_batchnorm
from gastnet.runtime.frame_plan import FramePlan
from gastnet.runtime.streaming import StreamingLifter

# the straightforward reference implementation lives with the tests (their oracle)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from reference_gastnet import ReferenceGASTNet  # noqa: E402


def best_seconds(fn: Callable[[], object], repeats: int, min_time: float = 0.0) -> float:
    """Median-free best-of timing: one warm-up, then the fastest of ``repeats`` calls."""
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < repeats or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def attainable_gflops() -> tuple[float, str]:
    """Best GFLOP/s of a few large GEMMs with the shapes of the network's 1 x 1 convolutions, through
    PyTorch's default CPU product and (where PyTorch has it) oneDNN with a prepacked weight."""
    results = []
    mkldnn = getattr(torch.ops, "mkldnn", None)
    for m, k, n in ((1024, 1024, 1024), (8192, 256, 256), (8192, 384, 128), (4096, 512, 512)):
        a, b = torch.randn(m, k), torch.randn(k, n)
        s = best_seconds(lambda: torch.mm(a, b), 5, 0.3)
        results.append((2 * m * k * n / s / 1e9, f"mm {m}x{k}x{n}"))
        if torch.backends.mkldnn.is_available() and hasattr(mkldnn, "_linear_pointwise"):
            packed = mkldnn._reorder_linear_weight(b.t().contiguous(), m)
            s = best_seconds(lambda: mkldnn._linear_pointwise(a, packed, None, "none", [], ""), 5, 0.3)
            results.append((2 * m * k * n / s / 1e9, f"oneDNN {m}x{k}x{n}"))
    return max(results)


def alternate_best(fns: list[Callable[[], object]], rounds: int = 3) -> list[float]:
    """Best seconds of each function, timed in turn for ``rounds`` rounds (one warm-up each)."""
    for fn in fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def training_flops(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor) -> float:
    """FLOPs of one training step's forward and backward passes (the optimizer's are negligible)."""
    with FlopCounterMode(display=False) as counter:
        (model(x) - target).norm(dim=-1).mean().backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def reference_for(model: gastnet.GASTNet) -> ReferenceGASTNet:
    cfg = model.config
    ref = ReferenceGASTNet(cfg["skeleton"], cfg["filter_widths"], cfg["channels"], cfg["dropout"], cfg["causal"])
    ref.load_state_dict(model.state_dict())
    return ref


def train_step(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor) -> Callable[[], None]:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, amsgrad=True)
    model.train()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = (model(x) - target).norm(dim=-1).mean()
        loss.backward()
        optimizer.step()

    return step


def profile(args: argparse.Namespace, rows: int = 10) -> None:
    """Top ops by self CPU time: RF 81 whole-sequence inference (1000 frames) and one training step."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    torch.manual_seed(0)
    model = gastnet.create_model("gastnet_rf81").eval()
    seq = torch.randn(1, 1000, 17, 2)
    with torch.no_grad():
        model.forward_sequence(seq)  # warm-up
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            model.forward_sequence(seq)
    print("RF 81 inference, 1000 frames\n" + prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))
    model.form = "strided"
    step = train_step(model, torch.randn(args.batch, 81, 17, 2), 0.1 * torch.randn(args.batch, 1, 17, 3))
    step()
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    print(f"RF 81 training step, batch {args.batch}\n" + prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))


def plan_products(plan: FramePlan) -> tuple[list, list[torch.Tensor]]:
    """The matrix products of one streaming push (in the plan's order) and a 17-row input for each."""
    linears = [plan.stem]
    for step, (conv, pointwise) in zip(plan.attention, [(None, None)] + plan.temporal):
        linears += [lin for lin in (conv, pointwise) if lin is not None]
        linears += [getattr(step, name) for name in ("project", "local_fuse", "glob_out", "rest") if getattr(step, name, None)]
    linears.append(plan.head)
    return linears, [torch.randn(17, lin.weight.shape[1]) for lin in linears]


PUSHES_PER_CALL = 20  # pushes' worth of products per timed call of ``products`` (timer resolution)


def products(linears: list, inputs: list[torch.Tensor], packed: bool) -> Callable[[], None]:
    """``PUSHES_PER_CALL`` pushes' worth of the plan's products, one after the other (each weight
    read once per push, as in streaming), through :class:`PackedLinear` or plain ``F.linear``."""
    def plain(lin, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.linear(x, lin.weight, lin.bias)

    product = (lambda lin, x: lin(x)) if packed else plain

    def run() -> None:
        for _ in range(PUSHES_PER_CALL):
            for lin, x in zip(linears, inputs):
                product(lin, x)
    return run


def parts(args: argparse.Namespace) -> None:
    """A/B of single changes, each pair timed alternately (best of three) in this run."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    print(f"whole sequences, {args.frames} frames: one pass of each layer vs 128 frames at a time (fps)")
    for rf in args.rf:
        torch.manual_seed(0)
        model = gastnet.create_model(f"gastnet_rf{rf}").eval()
        seq = torch.randn(1, args.frames, 17, 2)
        with torch.no_grad():
            one, chunked = alternate_best([lambda: model.forward_sequence(seq, chunk_frames=None),
                                           lambda: model.forward_sequence(seq, chunk_frames=128)])
        print(f"gastnet_rf{rf:<4d} one pass {args.frames / one:7.1f}  chunked {args.frames / chunked:7.1f}  "
              f"{one / chunked:4.2f}x")
    linears, inputs = plan_products(FramePlan(gastnet.create_model("gastnet_rf81_causal")))
    plain, packed = alternate_best([products(linears, inputs, False), products(linears, inputs, True)])
    print(f"streaming gastnet_rf81_causal, the plan's {len(linears)} products at 17 rows, ms per push: "
          f"F.linear {plain / PUSHES_PER_CALL * 1e3:.2f}  PackedLinear {packed / PUSHES_PER_CALL * 1e3:.2f}  "
          f"{plain / packed:4.2f}x")
    torch.manual_seed(0)
    model = gastnet.create_model("gastnet_rf27")
    model.form = "strided"
    step = train_step(model, torch.randn(args.batch, 27, 17, 2), 0.1 * torch.randn(args.batch, 1, 17, 3))
    step()
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    events = prof.key_averages()
    gemm = sum(e.self_cpu_time_total for e in events if e.key in ("aten::mm", "aten::addmm", "aten::bmm"))
    share = gemm / sum(e.self_cpu_time_total for e in events)
    print(f"gastnet_rf27 training step, batch {args.batch}: matrix products {share:.0%} of self CPU time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rf", type=int, nargs="+", default=[27, 81, 243], choices=[27, 81, 243])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=2000, help="sequence length for whole-sequence inference")
    parser.add_argument("--batch", type=int, default=128, help="training batch (windows; the paper trains with 128)")
    parser.add_argument("--pushes", type=int, default=500)
    parser.add_argument("--skip-streaming", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="print the top ops of RF 81 inference and a training step, then stop")
    parser.add_argument("--parts", action="store_true",
                        help="A/B of single changes (chunked sequences, packed products), then stop")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.profile:
        profile(args)
        return
    if args.parts:
        parts(args)
        return
    torch.manual_seed(0)
    peak, peak_shape = attainable_gflops()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; attainable {peak:.1f} GFLOP/s ({peak_shape})")
    print(f"whole-sequence inference, {args.frames} frames (fps; GFLOP/s and fraction of attainable for ours)")
    print(f"{'model':14s} {'MFLOP/frame':>11s} {'ours':>8s} {'fused':>8s} {'ref':>8s} {'ratio':>6s} "
          f"{'GFLOP/s':>8s} {'of peak':>7s} {'max|diff|':>9s}")
    train_rows = []
    for rf in args.rf:
        torch.manual_seed(0)
        model = gastnet.create_model(f"gastnet_rf{rf}").eval()
        ref = reference_for(model).eval()
        fused = fuse_batchnorm(model)
        seq = torch.randn(1, args.frames, 17, 2)
        padded = model.pad_sequence(seq)
        with torch.no_grad():
            with FlopCounterMode(display=False) as counter:
                ours_out = model.forward_sequence(seq)
            flops = counter.get_total_flops() / args.frames
            diff = (ours_out - ref(padded)).abs().max().item()
            t_ours = best_seconds(lambda: model.forward_sequence(seq), 3)
            t_fused = best_seconds(lambda: fused.forward_sequence(seq), 3)
            t_ref = best_seconds(lambda: ref(padded), 1)
        fps, fps_fused, fps_ref = (args.frames / t for t in (t_ours, t_fused, t_ref))
        best = max(fps, fps_fused)
        gf = flops * best / 1e9
        print(f"gastnet_rf{rf:<4d} {flops / 1e6:>11.1f} {fps:>8.1f} {fps_fused:>8.1f} {fps_ref:>8.1f} "
              f"{best / fps_ref:>5.1f}x {gf:>8.1f} {gf / peak:>6.0%} {diff:>9.1e}", flush=True)

        x = torch.randn(args.batch, rf, 17, 2)
        target = 0.1 * torch.randn(args.batch, 1, 17, 3)
        model.form, ref.strided = "strided", True
        flops = training_flops(model.train(), x, target) / args.batch
        s_ours, s_ref = alternate_best([train_step(model, x, target), train_step(ref, x, target)])
        train_rows.append((rf, flops, args.batch / s_ours, args.batch / s_ref))
    print(f"training step, batch {args.batch} (samples/s; GFLOP/s ours; share of attainable a 7x ratio would need;"
          " ceiling: the ratio if every FLOP ran at the attainable rate)")
    for rf, flops, ours, refv in train_rows:
        print(f"gastnet_rf{rf:<4d} {flops / 1e6:>7.0f} MFLOP/sample  ours {ours:>7.1f}  ref {refv:>6.1f}  "
              f"{ours / refv:>4.1f}x  {flops * ours / 1e9:>6.1f} GFLOP/s  7x needs {7 * refv * flops / 1e9 / peak:>4.0%}  "
              f"ceiling {peak * 1e9 / flops / refv:>4.1f}x")
    if not args.skip_streaming:
        torch.manual_seed(0)
        causal = gastnet.create_model("gastnet_rf81_causal")
        lifter = StreamingLifter(causal)
        frames = torch.randn(args.pushes, 17, 2)

        def pushes() -> None:
            for f in frames:
                lifter.push(f)

        rate = args.pushes / best_seconds(pushes, 5)
        linears, inputs = plan_products(FramePlan(causal))
        floor = best_seconds(products(linears, inputs, packed=True), 5) / PUSHES_PER_CALL
        print(f"streaming gastnet_rf81_causal: {rate:.1f} pushes/s; the plan's {len(linears)} matrix products alone "
              f"take {floor * 1e3:.2f} ms per push (at most {1 / floor:.0f} pushes/s with no other work)")


if __name__ == "__main__":
    main()
