"""Training cost per iteration of the few-shot methods against the plain anchor, measured side
by side in one run.

The NEU-DET 5-shot configs' models of ``test_cost.py`` (the light model at 200 px, six
classes, every model and base branch holding the base weights) each run a training iteration
(``model.loss``, backward, an SGD step) on the same batches of random images with random boxes
of every class. Blocks of iterations alternate between the models so that machine drift hits
them alike; the script prints each model's median seconds per iteration and its ratio to plain.
No target: the issue's target is the test pass (``test_cost.py``); this says what a training
run of each costs.

    OMP_NUM_THREADS=1 python bench/train_cost.py [--iters 4] [--rounds 5] \\
        [--models plain recipe 'recipe, distilled'] \\
        [--base-checkpoint work_dirs/neu_det/base/iter_3000.pth]
"""
import argparse
import statistics
import time
from typing import Dict, List

import torch
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import mmfs_plugin  # noqa: F401  (registers the plugin)
from test_cost import CLASSES, CONFIGS, batch, build_model, load_base_state


def training_batch(size: int, seed: int) -> tuple:
    """``test_cost.batch``'s images, each with three random boxes of random classes."""
    inputs, samples = batch(size, seed)
    generator = torch.Generator().manual_seed(seed)
    for sample in samples:
        corners = torch.rand(3, 2, generator=generator) * 140
        sizes = 10 + torch.rand(3, 2, generator=generator) * 50
        sample.gt_instances = InstanceData(
            bboxes=torch.cat([corners, corners + sizes], dim=1),
            labels=torch.randint(len(CLASSES), (3, ), generator=generator))
    return inputs, samples


def time_block(model: torch.nn.Module, optimizer: torch.optim.Optimizer,
               batches: List[tuple]) -> float:
    """Seconds per training iteration of ``model`` over ``batches``."""
    start = time.perf_counter()
    for inputs, samples in batches:
        losses = model.loss(inputs, samples)
        loss = sum(value for key, value in losses.items() if 'loss' in key
                   for value in (value if isinstance(value, list) else [value]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - start) / len(batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--iters', type=int, default=4, help='iterations per block')
    parser.add_argument('--batch-size', type=int, default=4,
                        help="images per batch (the NEU-DET fine-tuning loader's)")
    parser.add_argument('--rounds', type=int, default=5, help='blocks per model')
    parser.add_argument('--models', nargs='+', default=['plain', 'recipe', 'recipe, distilled'],
                        choices=list(CONFIGS), help='the models (plain always runs)')
    parser.add_argument('--base-checkpoint', help='the NEU-DET base checkpoint')
    args = parser.parse_args()
    init_default_scope('mmdet')
    torch.manual_seed(0)
    base_state = load_base_state(args.base_checkpoint)
    names = ['plain'] + [name for name in args.models if name != 'plain']
    models = {name: build_model(CONFIGS[name], base_state).train() for name in names}
    optimizers = {name: torch.optim.SGD([p for p in model.parameters() if p.requires_grad],
                                        lr=1e-4, momentum=0.9)
                  for name, model in models.items()}
    batches = [training_batch(args.batch_size, seed) for seed in range(args.iters)]
    for name, model in models.items():  # warm-up
        time_block(model, optimizers[name], batches[:1])
    times: Dict[str, List[float]] = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            times[name].append(time_block(model, optimizers[name], batches))
    plain = statistics.median(times['plain'])
    print(f'{"model":<28} {"s/iter":>8} {"x plain":>8}')
    for name, values in times.items():
        print(f'{name:<28} {statistics.median(values):8.3f} '
              f'{statistics.median(values) / plain:8.2f}')


if __name__ == '__main__':
    main()
