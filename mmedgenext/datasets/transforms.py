"""Data checks that turn unreadable or mismatched files into an error that
names the file and the fix, instead of a failure deep inside a transform or
silently misaligned training data.

The configs load images with the stock ``LoadImageFromFile`` (mmdet's,
mmseg's and mmpretrain's inferencers and mmdeploy find it by that name);
:func:`dataset_error_message` reads its failures instead.
"""
import re

from mmcv.transforms import BaseTransform

from mmedgenext.registry import TRANSFORMS


class DatasetError(ValueError):
    """A file of the data set cannot be used as it is."""


# mmcv's LoadImageFromFile: ``assert img is not None, f'failed to load
# image: {filename}'`` for undecodable bytes; the file backend's
# FileNotFoundError for a missing file.
_UNDECODABLE = re.compile(r'failed to load image: (.+)')
_MISSING = re.compile(
    r"No such file or directory: '(.+\.(?:jpe?g|png|bmp|tiff?|webp))'", re.I)


def dataset_error_message(error):
    """One line saying which data file is unusable and what to do, or None
    when ``error`` is not about a data file.

    Takes :class:`DatasetError` messages as they are and reads the stock
    image loader's failures; an error raised in a DataLoader worker reaches
    the main process with the worker's traceback in its message, which is
    dropped.
    """
    message = str(error)
    if 'Original Traceback' in message:
        message = [line for line in message.splitlines() if line.strip()][-1]
        message = message.split(': ', 1)[-1]
    if isinstance(error, DatasetError):
        return message
    for pattern, reason in ((_UNDECODABLE, 'not a decodable image'),
                            (_MISSING, 'no such file')):
        found = pattern.search(message)
        if found:
            return (f'Cannot read image {found.group(1)}: {reason}. Replace '
                    'the file or remove it from the annotations.')
    return None


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
