from .encoders import ConvEncoder, SDTAEncoder
from .norm import LayerNorm2d, build_norm, is_batch_norm
from .positional_encoding import FourierPositionalEncoding
from .xca import CrossCovarianceAttention

__all__ = [
    'ConvEncoder', 'SDTAEncoder', 'LayerNorm2d', 'build_norm',
    'is_batch_norm', 'FourierPositionalEncoding', 'CrossCovarianceAttention'
]
