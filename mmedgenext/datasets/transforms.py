"""Data checks that turn silent corruption into an error naming the file."""
from mmcv.transforms import BaseTransform

from mmedgenext.registry import TRANSFORMS


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
            raise ValueError(
                f"Label map {results.get('seg_map_path')} is "
                f'{label_size[1]}x{label_size[0]} but its image '
                f"{results.get('img_path')} is {image_size[1]}x"
                f'{image_size[0]} (width x height): the pair does not belong '
                f'together or one of them was resized; fix or remove it.')
        return results
