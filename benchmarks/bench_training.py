"""Training throughput on this machine, and whether the data pipeline keeps up.

Loads Human3.6M from the data folder as `gastnet train` does (RF 27 windows, flips, batch 128),
then times (a) producing batches alone, (b) training steps on ready batches, (c) full training
steps with the pipeline in the loop, and prints samples per second and the pipeline's share.

    python benchmarks/bench_training.py --data-dir ../shared/data            # paper's RF 27, C = 128
    python benchmarks/bench_training.py --data-dir ../shared/data --set model.channels=64
    python benchmarks/bench_training.py --data-dir ../shared/data --config configs/cpu/h36m_rf27_c32_video.toml
"""

from __future__ import annotations

import argparse
import itertools
import time

import torch

from gastnet.evaluation.metrics import mpjpe
from gastnet.model import create_model
from gastnet.training import load_config, load_training_data
from gastnet.training.trainer import make_loader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="configs/h36m_rf27.toml")
    parser.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    config = load_config(args.config, args.set)
    start = time.perf_counter()
    data = load_training_data(config, args.data_dir)
    print(f"loaded {len(data.world or data.train)} training sequences in {time.perf_counter() - start:.1f} s ({data.source})")
    torch.manual_seed(0)
    model = create_model(config.model.name, **config.model.overrides, form="strided")
    tc = config.train
    loader = make_loader(config, data, model)  # as gastnet train makes it (video-like windows with [augment])
    optimizer = torch.optim.Adam(model.parameters(), lr=tc.lr, amsgrad=True)
    model.train()

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        mpjpe(model(x), y).backward()
        optimizer.step()

    batches = list(itertools.islice(loader.epoch(0), args.steps + 1))
    start = time.perf_counter()
    for _ in itertools.islice(loader.epoch(1), args.steps):
        pass
    data_s = (time.perf_counter() - start) / args.steps
    step(*batches[0])  # warm-up
    start = time.perf_counter()
    for x, y in batches[1:]:
        step(x, y)
    model_s = (time.perf_counter() - start) / args.steps
    start = time.perf_counter()
    for x, y in itertools.islice(loader.epoch(2), args.steps):
        step(x, y)
    full_s = (time.perf_counter() - start) / args.steps
    b = tc.batch_size
    print(f"{config.model.name} {config.model.overrides or ''}: batch {b}, {torch.get_num_threads()} threads, "
          f"{loader.num_samples} windows per epoch")
    print(f"  data pipeline alone:      {1000 * data_s:8.2f} ms/batch  {b / data_s:10.0f} samples/s")
    print(f"  training step alone:      {1000 * model_s:8.2f} ms/batch  {b / model_s:10.0f} samples/s")
    print(f"  training with pipeline:   {1000 * full_s:8.2f} ms/batch  {b / full_s:10.0f} samples/s")
    epoch_h = loader.num_samples / (b / full_s) / 3600
    print(f"  pipeline share of a step: {100 * data_s / full_s:.1f}%; an epoch takes {epoch_h:.2f} h")


if __name__ == "__main__":
    main()
