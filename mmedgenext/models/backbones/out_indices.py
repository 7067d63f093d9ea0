"""``out_indices`` checking shared by the backbones."""
from typing import Sequence


def resolve_out_indices(out_indices, num_stages):
    """Return ``out_indices`` as a tuple of stage indices in
    ``[0, num_stages)``; an int is one stage, negative indices count from
    the last stage."""
    if isinstance(out_indices, int):
        out_indices = (out_indices, )
    if not isinstance(out_indices, Sequence) or not out_indices:
        raise ValueError(
            f'out_indices must be a non-empty sequence, got {out_indices}')
    resolved = tuple(i + num_stages if i < 0 else i for i in out_indices)
    if any(not 0 <= i < num_stages for i in resolved):
        raise ValueError(f'out_indices must lie in [{-num_stages}, '
                         f'{num_stages - 1}], got {out_indices}')
    return resolved
