"""Data-parallel training on torch.distributed: the ranks share every global mini-batch.

The epoch order and the global batch are those of a single-process run; rank r evaluates the
structures batch[r::world]. Loss terms are weighted means, so each rank divides its partial
sums by the denominators of the *global* batch (all-reduced), and summing the ranks' gradients
gives exactly the single-process gradient. Rank 0 alone validates, runs the invariant-point
monitor and writes logs and checkpoints; it broadcasts each epoch's metrics so that every rank
takes the same scheduler and stopping decisions. Without an initialised process group every
helper is a no-op, so the single-process path is the same code.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence

import torch
import torch.distributed as dist


def active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    return rank() == 0


def shard(indices: Sequence[int]) -> list[int]:
    """This rank's share of a global batch."""
    return list(indices)[rank()::world()]


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    if active():
        tensor = tensor.clone()
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def sum_gradients(model: torch.nn.Module) -> None:
    """Sum every parameter's gradient over the ranks (one flat all-reduce)."""
    if not active():
        return
    params = list(model.parameters())
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = flat[offset:offset + n].view_as(p).clone()
        offset += n


def broadcast(value):
    """Rank 0's value on every rank (any picklable object)."""
    if not active():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier() -> None:
    if active():
        dist.barrier()


def init_from_environment() -> bool:
    """Join the process group torchrun describes (WORLD_SIZE, RANK, MASTER_ADDR/PORT)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return False
    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _entry(local_rank: int, world_size: int, port: int, fn: Callable, args: tuple) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(local_rank),
                      WORLD_SIZE=str(world_size))
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend, rank=local_rank, world_size=world_size)
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank % torch.cuda.device_count())
    try:
        fn(*args)
    finally:
        dist.destroy_process_group()


def launch(nproc: int, fn: Callable, *args) -> None:
    """Run fn(*args) in `nproc` local processes forming one process group (gloo on CPU,
    nccl on GPUs), as `torchrun --nproc_per_node nproc` would."""
    torch.multiprocessing.spawn(_entry, args=(nproc, _free_port(), fn, args), nprocs=nproc)
