"""Start a wider model from a narrower one of the same form: the new units add nothing.

A fine-tuned model that runs out of capacity need not restart from random weights: every
weight block of the file is copied into the leading block of the wider model's, the weights
from new input units into old output units are zeroed (so the old units compute what they did),
and the new output units keep their random start, read by the next map through zeroed weights.
The model then computes the file's energies at epoch 0, and since each new unit is read through
one zero map and computes a non-zero value, gradient descent switches it on (as a LoRA adapter
grows from a zero factor). e3nn's maps scale each path by 1/√(fan-in): a copied block is
rescaled so that a grown fan-in keeps the product.
"""

from __future__ import annotations

import torch
from e3nn import o3


def _copy_block(new: torch.Tensor, old: torch.Tensor, scale: float = 1.0) -> None:
    """`new` and `old` laid out (inputs..., outputs): the old outputs' columns become the old
    block (new inputs zero); the new outputs' columns are left as they are."""
    if new.dim() != old.dim() or any(n < o for n, o in zip(new.shape, old.shape, strict=True)):
        raise ValueError(f"a block of shape {tuple(old.shape)} does not fit into "
                         f"{tuple(new.shape)}")
    columns = new[..., :old.shape[-1]]
    columns.zero_()
    columns[tuple(slice(0, n) for n in old.shape[:-1])] = old * scale


def _widen_e3nn(new: torch.nn.Module, old: torch.nn.Module, name: str) -> None:
    pairs = list(zip(new.weight_views(yield_instruction=True),
                     old.weight_views(yield_instruction=True), strict=True))
    for (_, ins_new, view_new), (_, ins_old, view_old) in pairs:
        if ins_new[:-2] != ins_old[:-2]:  # the same irreps blocks joined by each path
            raise ValueError(f"{name}: its paths differ ({ins_new} against {ins_old})")
        _copy_block(view_new, view_old, ins_old.path_weight / ins_new.path_weight)


def widen_from(model: torch.nn.Module, start: torch.nn.Module) -> None:
    """Copy `start` into `model`, a model of the same form whose maps may be wider (see the
    module docstring); tensors `start` lacks keep their start (a grown term's zeros), any
    other difference in shape is an error naming the tensor."""
    old_modules = dict(start.named_modules())
    done = set()
    with torch.no_grad():
        for name, module in model.named_modules():
            old = old_modules.get(name)
            if old is None or type(old) is not type(module):
                continue
            weight = getattr(module, "weight", None)
            if not isinstance(weight, torch.Tensor) or weight.shape == old.weight.shape:
                continue
            if isinstance(module, torch.nn.Linear):
                _copy_block(module.weight.T, old.weight.T)
                if module.bias is not None:
                    module.bias[:old.bias.shape[0]] = old.bias
                    done.add(f"{name}.bias")
            elif isinstance(module, o3.Linear | o3.TensorProduct) and not getattr(
                    module, "bias", torch.zeros(0)).numel():
                _widen_e3nn(module, old, name)
                # their buffers (output masks) follow from the irreps: the new module's own
                done.update(f"{name}.{key}" for key, _ in module.named_buffers(recurse=False))
            else:
                raise ValueError(f"cannot widen {name} ({type(module).__name__})")
            done.add(f"{name}.weight")
        old_state = start.state_dict()
        for key, tensor in model.state_dict().items():
            if key in done or key not in old_state:
                continue
            if old_state[key].shape != tensor.shape:
                raise ValueError(f"cannot widen {key}: shape {tuple(tensor.shape)}, the "
                                 f"narrower model's {tuple(old_state[key].shape)}")
            tensor.copy_(old_state[key])
