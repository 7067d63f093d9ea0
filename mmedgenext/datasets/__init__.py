from .transforms import CheckSegMapSize

__all__ = ['CheckSegMapSize']
