"""Each group's share of the training loss, as the trainer draws its mini-batches.

    python benchmarks/loss_shares.py data/train_si_e3nn.yaml
    python benchmarks/loss_shares.py runs/accuracy/<row>/config.yaml --epochs 50

A group weight multiplies a structure's weight in the energy and force terms. Under
`loss.normalise: batch` (the default) every mini-batch divides by its own weights, so a heavy
structure's pull is capped at its batch's; under `data` the epoch's loss is the training set's
weighted mean. This prints, per group (`loss.group_key`), the training cells, the weight, and
the share of each term under both normalisations over the first `--epochs` epochs' batches
(the trainer's own order). Session 27: 100x on the two PBE-relaxed 63-atom vacancy cells took
their share from 2.8 to 5.8 % batch-normalised, against 55 % normalised by the data.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np

from nnpcalc.train.config import load_config
from nnpcalc.train.fit import prepare
from nnpcalc.train.loop import epoch_order, structure_term_weights

TERMS = ("energy", "forces")


def batch_shares(weights: np.ndarray, batch_size: int, seed: int, epochs: int) -> np.ndarray:
    """Each structure's mean share of the batch-normalised loss over `epochs` epochs: every
    batch, the short last one too, is one optimiser step of equal standing."""
    n = len(weights)
    shares = np.zeros(n)
    steps = -(-n // batch_size)
    for epoch in range(epochs):
        order = np.array(epoch_order(n, seed, epoch))
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            total = weights[batch].sum()
            if total > 0:
                shares[batch] += weights[batch] / total / steps
    return shares / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="a training config (YAML)")
    parser.add_argument("--epochs", type=int, default=200)
    args = parser.parse_args()
    cfg = load_config(args.config, {"monitor": {"enabled": False}})
    prep = prepare(cfg)
    weights = {term: w for term, w in structure_term_weights(prep.train, cfg).items()
               if term in TERMS}
    groups = defaultdict(list)
    for k, item in enumerate(prep.train.items):
        groups[str(item.atoms.info.get(cfg.loss.group_key, ""))].append(k)
    shares = {term: (batch_shares(w, cfg.batch_size, cfg.seed, args.epochs), w / w.sum())
              for term, w in weights.items() if w.sum() > 0}
    print(f"{len(prep.train)} training cells, batch {cfg.batch_size}; share of each term (%), "
          "batch-normalised / normalised by the data")
    print(f"  {'group':36s} cells  weight  " + "  ".join(f"{t:>15s}" for t in shares))
    for group, members in sorted(groups.items()):
        weight = prep.train.items[members[0]].weight
        cells = "  ".join(f"{100 * batch[members].sum():6.1f} / {100 * data[members].sum():5.1f}"
                          for batch, data in shares.values())
        print(f"  {group:36s} {len(members):5d} {weight:7.3g}  {cells}")


if __name__ == "__main__":
    main()
