from .transforms import CheckSegMapSize, DatasetError, dataset_error_message

__all__ = ['CheckSegMapSize', 'DatasetError', 'dataset_error_message']
