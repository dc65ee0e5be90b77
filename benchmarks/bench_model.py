"""Time gastnet's GAST-Net against the straightforward reference on this machine's CPU.

For each receptive field, both implementations get the same weights and the same batch of
windows (strided, one-frame form, as in training). The script checks that their outputs agree,
then times inference (eval, no grad) and a training step (forward, MPJPE loss, backward,
Adam/amsgrad step), and prints samples per second and the ratio fast / reference measured in
this run.

    python benchmarks/bench_model.py                  # RF 27, 81, 243, batch 128
    python benchmarks/bench_model.py --rf 27 --repeats 5
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

import gastnet

# the straightforward reference implementation lives with the tests (their oracle)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from reference_gastnet import ReferenceGASTNet  # noqa: E402


def samples_per_second(fn: Callable[[], None], batch: int, repeats: int) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return batch * repeats / (time.perf_counter() - start)


def train_step(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor) -> Callable[[], None]:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, amsgrad=True)

    def step() -> None:
        model.train()
        optimizer.zero_grad(set_to_none=True)
        loss = (model(x) - target).norm(dim=-1).mean()
        loss.backward()
        optimizer.step()

    return step


def inference(model: torch.nn.Module, x: torch.Tensor) -> Callable[[], None]:
    def run() -> None:
        model.eval()
        with torch.no_grad():
            model(x)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rf", type=int, nargs="+", default=[27, 81, 243], choices=[9, 27, 81, 243])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, CPU")
    print(f"{'model':14s} {'params':>10s} {'max |diff|':>10s} | {'infer fast':>10s} {'infer ref':>10s} {'ratio':>6s} | "
          f"{'train fast':>10s} {'train ref':>10s} {'ratio':>6s}   (samples/s)")
    for rf in args.rf:
        torch.manual_seed(0)
        name = f"gastnet_rf{rf}"
        fast = gastnet.create_model(name, form="strided")
        cfg = fast.config
        reference = ReferenceGASTNet(cfg["skeleton"], cfg["filter_widths"], cfg["channels"], cfg["dropout"])
        reference.load_state_dict(fast.state_dict())
        reference.strided = True
        x = torch.randn(args.batch, rf, 17, 2)
        target = 0.1 * torch.randn(args.batch, 1, 17, 3)
        fast.eval(), reference.eval()
        with torch.no_grad():
            diff = (fast(x) - reference(x)).abs().max().item()
        inf_fast = samples_per_second(inference(fast, x), args.batch, args.repeats)
        inf_ref = samples_per_second(inference(reference, x), args.batch, args.repeats)
        train_fast = samples_per_second(train_step(fast, x, target), args.batch, args.repeats)
        train_ref = samples_per_second(train_step(reference, x, target), args.batch, args.repeats)
        print(f"{name:14s} {gastnet.count_parameters(fast):>10,d} {diff:>10.1e} | {inf_fast:>10.1f} {inf_ref:>10.1f} "
              f"{inf_fast / inf_ref:>5.1f}x | {train_fast:>10.1f} {train_ref:>10.1f} {train_fast / train_ref:>5.1f}x",
              flush=True)


if __name__ == "__main__":
    main()
