from .transforms import (CheckSegMapSize, DatasetError, LoadImageFromFile,
                         dataset_error_message)

__all__ = [
    'CheckSegMapSize', 'DatasetError', 'LoadImageFromFile',
    'dataset_error_message'
]
