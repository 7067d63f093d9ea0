"""Model analysis: parameters and multiply-adds as the paper counts them."""
from .complexity import count_complexity

__all__ = ['count_complexity']
