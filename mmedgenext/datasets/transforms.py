"""Data checks that turn unreadable or mismatched files into an error that
names the file and the fix, instead of a failure deep inside a transform or
silently misaligned training data."""
from mmcv.transforms import BaseTransform
from mmcv.transforms import LoadImageFromFile as _MMCVLoadImageFromFile

from mmedgenext.registry import TRANSFORMS


class DatasetError(ValueError):
    """A file of the data set cannot be used as it is.

    The tools print it as one line. Raised inside a DataLoader worker it
    reaches the main process with the worker's traceback prepended to its
    message; :func:`dataset_error_message` takes that back off.
    """


def dataset_error_message(error):
    """The message ``error`` was raised with, without the traceback that a
    DataLoader worker prepends when it passes the error on."""
    message = str(error)
    if 'Original Traceback' not in message:
        return message
    last = [line for line in message.splitlines() if line.strip()][-1]
    return last.split(f'{type(error).__name__}: ', 1)[-1]


@TRANSFORMS.register_module()
class LoadImageFromFile(_MMCVLoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` whose failure on a missing, truncated or
    non-image file is a :class:`DatasetError` naming the file (mmcv asserts
    ``failed to load image`` or lets the decoder's error through)."""

    def transform(self, results):
        try:
            loaded = super().transform(results)
        except Exception as e:
            reason = str(e).strip() or type(e).__name__
            if isinstance(e, AssertionError):
                reason = 'not a decodable image'
            raise DatasetError(
                f"Cannot read image {results['img_path']}: {reason}. Replace "
                'the file or remove it from the annotations.') from None
        return loaded


@TRANSFORMS.register_module()
class CheckSegMapSize(BaseTransform):
    """Refuse a label map whose size differs from its image's.

    Place it right after ``LoadAnnotations``. Without it mmseg crops and
    flips the two independently sized arrays and trains on misaligned
    labels, or fails later deep inside a transform.
    """

    def transform(self, results):
        image_size = results['img'].shape[:2]
        label_size = results['gt_seg_map'].shape[:2]
        if image_size != label_size:
            raise DatasetError(
                f"Label map {results.get('seg_map_path')} is "
                f'{label_size[1]}x{label_size[0]} but its image '
                f"{results.get('img_path')} is {image_size[1]}x"
                f'{image_size[0]} (width x height): the pair does not belong '
                f'together or one of them was resized; fix or remove it.')
        return results
