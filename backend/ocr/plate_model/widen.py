"""Start a wider recogniser from a trained narrower one without losing what it reads.

Every weight of the narrow model is copied into the leading slice of the wide one; the
weights from a new unit into an old one start at zero, so the wide model first computes
exactly what the narrow one did, and training then puts the new units to use. The new
units' own incoming weights keep their random initialisation, which is what lets them
learn something different from the old ones. (Net2Net, Chen et al. 2016, widens by copying
units instead; zero fan-out needs no bookkeeping for batch normalisation and keeps the old
units' statistics.)
"""

from __future__ import annotations

import torch

# PyTorch stacks an LSTM's four gates (input, forget, cell, output) along the first axis.
LSTM_GATES = 4
# One row per character: rows of another alphabet are other characters, not more units.
OUTPUT_LAYER = "Prediction."


def widen_state(narrow: dict[str, torch.Tensor], wide: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """`wide` (a freshly initialised state dict) with `narrow` embedded in it. Tensors of the
    same shape are copied; a tensor no larger than its counterpart in every axis is embedded;
    anything else (an output layer for another alphabet) keeps its initialisation."""
    result = {}
    for key, target in wide.items():
        source = narrow.get(key)
        if source is None:
            result[key] = target.clone()
        elif source.shape == target.shape:
            result[key] = source.clone()
        elif can_embed(key, source.shape, target.shape):
            result[key] = _embed(key, source, target)
        else:
            result[key] = target.clone()
    return result


def can_embed(key: str, narrow: torch.Size, wide: torch.Size) -> bool:
    """Whether `widen_state` embeds the narrow tensor `key` in the wide one (rather than
    copying it whole or leaving the wide one as initialised)."""
    if narrow == wide or len(narrow) != len(wide) or any(n > w for n, w in zip(narrow, wide, strict=True)):
        return False
    return not (key.startswith(OUTPUT_LAYER) and narrow[0] != wide[0])


def _embed(key: str, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    name = key.rsplit(".", 1)[-1]
    rows = _lstm_gate_rows if name.startswith(("weight_ih", "weight_hh", "bias_ih", "bias_hh")) else _leading
    columns = (
        _bidirectional_columns if key.endswith("linear.weight") and ".SequenceModeling." in f".{key}" else _leading
    )
    result = target.clone()
    new_rows = rows(source.shape[0], target.shape[0])
    if source.dim() == 1:  # biases, batch-norm statistics: one value per unit
        result[new_rows] = source
        return result
    new_columns = columns(source.shape[1], target.shape[1])
    old_rows_mask = torch.zeros(target.shape[0], dtype=torch.bool)
    old_rows_mask[new_rows] = True
    result[old_rows_mask] = 0  # nothing from a new unit reaches an old one ...
    result[new_rows[:, None], new_columns[None, :]] = source  # ... and old to old is as trained
    return result


def _leading(old: int, new: int) -> torch.Tensor:
    return torch.arange(old)


def _lstm_gate_rows(old: int, new: int) -> torch.Tensor:
    """Where each of the narrow LSTM's gate rows lands: the first units of each gate block."""
    old_units, new_units = old // LSTM_GATES, new // LSTM_GATES
    return torch.cat([gate * new_units + torch.arange(old_units) for gate in range(LSTM_GATES)])


def _bidirectional_columns(old: int, new: int) -> torch.Tensor:
    """A bidirectional LSTM's output is [forward units | backward units]: each half widens."""
    old_units, new_units = old // 2, new // 2
    return torch.cat([torch.arange(old_units), new_units + torch.arange(old_units)])
